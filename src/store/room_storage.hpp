#pragma once
// What storage is, for the room operations written once in store/store.cpp: keep each room's
// state, run a read or a change on it under the room's lock, make a change's records durable and
// only then tell what it announces. The embedded store (the durable log) and the Redis store (the
// room's log in Redis, committed under the room's write lock) implement it.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/function_ref.hpp"
#include "core/room.hpp"
#include "engine/effects.hpp"
#include "engine/room_ops.hpp"
#include "engine/room_snapshot.hpp"
#include "ops/event_feed.hpp"
#include "store/compactor.hpp"

namespace waitroom::store {

class HealthBoard;

// Told, from any thread and possibly under a room's lock, when a room's change counter grew (or
// the room was deleted). Must not block: note the room and return.
class RoomChangeListener {
 public:
  virtual ~RoomChangeListener() = default;
  virtual void room_changed(const std::string& room) = 0;
};

// One room's state as an operation sees it, under the room's lock for the length of one call.
struct RoomSlot {
  std::optional<core::Room>& room;  // empty: no room by this name (not yet, or deleted)
  std::uint32_t& last_epoch;        // the last epoch the name used; outlives a delete
  std::uint64_t& expired_sessions;  // sessions found expired when listeners last heard
  // Grows with every announced change a ticket's status may show (WatchedTicket, TicketStates).
  std::uint64_t change_id = 0;
  engine::OpContext ctx;
  // The state holds a change not known to be durable yet: what it shows of that change (a pass)
  // may be handed out only after settle(room, mark).
  bool unsettled = false;
  std::uint64_t mark = 0;
};

class RoomStorage {
 public:
  template <class T>
  using Op = boost::asio::awaitable<core::Result<T>>;
  using Reader = core::FunctionRef<void(RoomSlot&)>;
  // Returns false when the operation failed: it changed nothing and its effects are dropped.
  using Changer = core::FunctionRef<bool(RoomSlot&, engine::Effects&)>;
  // `drives`: false where another node drives the room; then only time passes (sessions run out,
  // the pace is sampled) and nothing may be recorded. Owning (ten calls a second, not a hot path):
  // a storage may still run a step its caller stopped waiting for.
  using Stepper = std::function<void(RoomSlot&, engine::Effects&, bool drives)>;

  virtual ~RoomStorage() = default;

  // Runs `read` on the room's state under its lock; an empty slot when there is no such room.
  // Fails only when the room cannot be served from here (its log in Redis is damaged).
  virtual core::Result<void> read(const std::string& room, Reader read) = 0;
  // Other nodes change the rooms too (the Redis store): a state that lacks a room or a ticket may
  // only be behind, and catch_up() brings the room's state up to what is committed.
  virtual bool shared() const = 0;
  virtual Op<void> catch_up(std::string room) = 0;
  // Runs `change` on the room's state under its write lock. When it succeeds, its records are
  // appended in the order the room's changes happen, and this resumes once they are durable and
  // what they announce (audit events, the change counter) has gone out. `may_create`: the room
  // need not exist (a put); otherwise an unknown room fails without running `change`.
  virtual Op<void> change(std::string room, Changer change, bool may_create) = 0;
  // Resumes once what a read saw at `mark` is durable, or has been dropped from the state because
  // it could not be made so (a read after this shows which).
  virtual Op<void> settle(std::string room, std::uint64_t mark) = 0;
  // Every room's state under its lock, one after another (rooms not served from here left out).
  virtual void for_each_room(Reader read) = 0;
  // One admission step of every room (the driver runs it every kAdmissionStepMs). `quiet` says
  // whether a room's step is sure to write nothing: a store that locks a room to write in it may
  // then step it without the lock.
  using QuietCheck = std::function<bool(const core::Room&)>;
  virtual void step_rooms(Stepper step, QuietCheck quiet) = 0;

  // Writes every room's snapshot and drops the records it replaces (the embedded log's older
  // records, each Redis room log's head); what must stay is in the snapshots.
  virtual Op<CompactionReport> compact() = 0;

  // False while the storage cannot accept writes (the log failed, Redis is unreachable).
  virtual bool ready() const = 0;
  // Finishes what is pending; nothing calls the storage any more by then.
  virtual void stop() = 0;
  // Records read at start (the embedded log's replay, the Redis store's room logs).
  virtual std::uint64_t replayed_records() const = 0;
  // The storage's own lines of /metrics (Prometheus text), if it has any.
  virtual void render_metrics(std::string& /*out*/) const {}

  // Where the rooms' audit events are kept once committed (docs/events.md); null: events are not
  // recorded. Set before the storage reads its log, so the feed gets what the log kept.
  void set_event_feed(ops::EventFeed* feed) { feed_ = feed; }
  bool wants_events() const { return feed_ != nullptr; }
  // Who hears of room changes (the event streams); null: nobody. Set before serving.
  void set_change_listener(RoomChangeListener* listener) { changes_ = listener; }
  // The rooms' sites' health on this node (store/health_board.hpp), which a storage shared by
  // several nodes shares with them; null: none. Set before serving.
  void set_health_board(HealthBoard* board) { health_ = board; }

 protected:
  engine::Effects effects() const { return engine::Effects(feed_ != nullptr); }
  // A change's records once written (durable at `lsn`; 0: already durable): the events they
  // carry join the feed, moved out of them.
  void feed_committed(const std::string& room, std::vector<engine::LogRecord>& records,
                      std::uint64_t lsn = 0) const;
  // A record read from the log (replay, another node's commit, a reload): its events join the
  // feed, and the room's last event number follows it.
  void feed_record(const std::string& room, std::uint64_t& last_event_seq,
                   const engine::LogRecord& record) const;
  // A room's snapshot (under its lock; encoded after), with the events the feed still keeps for
  // it: every one its records up to now carried that some reader still needs.
  engine::RoomSnapshot take_snapshot(const std::string& name, const std::optional<core::Room>& room,
                                     std::uint32_t last_epoch, std::uint64_t last_event_seq) const;
  // A read of a room this storage has no state for: an empty slot.
  static void read_absent(const Reader& read, const engine::OpContext& ctx) {
    std::optional<core::Room> none;
    std::uint32_t epoch = 0;
    std::uint64_t expired = 0;
    RoomSlot slot{none, epoch, expired, 0, ctx};
    read(slot);
  }

  ops::EventFeed* feed_ = nullptr;
  HealthBoard* health_ = nullptr;
  RoomChangeListener* changes_ = nullptr;
};

}  // namespace waitroom::store
