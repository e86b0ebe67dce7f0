#pragma once
// What a room's state needs from storage. The embedded store (default) and the Redis store
// (scale-out) implement it; handlers call exactly one of these per request. Operations are
// coroutines so that a store may wait on disk or the network without blocking an I/O thread.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/pass_minter.hpp"
#include "core/room.hpp"
#include "core/room_settings.hpp"
#include "core/ticket_status.hpp"
#include "engine/views.hpp"
#include "ops/event_sink.hpp"

namespace waitroom::store {

// How often the admission driver runs each room's policy (and the test clock's step).
inline constexpr std::int64_t kAdmissionStepMs = 100;

// The views operations answer with live in the engine (engine/views.hpp); the handlers name them
// through the store they call.
using engine::AdmissionEntry;
using engine::AdmissionsPage;
using engine::Advance;
using engine::EnqueueResult;
using engine::PassCheck;
using engine::PassOptions;
using engine::PassView;
using engine::RoomView;
using engine::SettingsUpdate;
using engine::TicketStates;
using engine::TicketView;
using engine::WatchedTicket;

// Told, from any thread and possibly under a room's lock, when a room's change counter grew (or
// the room was deleted). Must not block: note the room and return.
class RoomChangeListener {
 public:
  virtual ~RoomChangeListener() = default;
  virtual void room_changed(const std::string& room) = 0;
};

class Store {
 public:
  template <class T>
  using Op = boost::asio::awaitable<core::Result<T>>;

  virtual ~Store() = default;

  // Gives the visitor a place at the tail, or returns their ticket when `existing` is a live
  // ticket of this room (one place per browser). `tracks_presence`: the visitor's client polls
  // its ticket, so a ticket not seen for the room's idle timeout has left.
  virtual Op<EnqueueResult> enqueue(std::string room, std::optional<std::string> existing,
                                    bool tracks_presence) = 0;
  // Reads a ticket and records that its visitor is still there.
  virtual Op<TicketView> ticket(std::string room, std::string ticket) = 0;
  // ticket(), plus what an event stream needs to follow the ticket by position afterwards.
  virtual Op<WatchedTicket> watch_ticket(std::string room, std::string ticket) = 0;
  // Reads the tickets at `positions` of the room's current epoch under one lock, without decoding
  // ids, and records that their visitors are still there (their streams are open). `positions`
  // must outlive the call.
  virtual Op<TicketStates> ticket_states(std::string room,
                                         std::span<const std::uint64_t> positions) = 0;
  // Issues the ticket's pass once it is eligible; asking again returns the same pass.
  virtual Op<PassView> issue_pass(std::string room, std::string ticket, PassOptions options) = 0;
  // Whether `pass` is exactly the pass this room issued for `ticket` and its session is active
  // now. The store keeps every pass it issued, so this is the whole check: a forged or altered
  // token cannot match, and a session ended by an operator fails at once (gone).
  virtual Op<PassCheck> check_pass(std::string room, std::string ticket, std::string pass) = 0;
  // Renews the ticket's active session (renew_on_activity): a new pass valid for the room's
  // pass_lifetime_s from now, unless a concurrent request just did it; returns the current pass.
  // `binding`: the "bind" claim of the pass it renews (a session keeps the binding it began with).
  virtual Op<PassView> renew_pass(std::string room, std::string ticket, std::string binding) = 0;

  virtual Op<RoomView> room(std::string room) = 0;
  // The room's pass cookie settings: what gates need of a room besides the pass itself.
  virtual Op<core::PassCookie> pass_cookie(std::string room) = 0;
  virtual Op<std::vector<RoomView>> rooms() = 0;
  // Creates or changes a room; the bool is true when it was created.
  virtual Op<std::pair<RoomView, bool>> put_room(std::string room, SettingsUpdate update) = 0;
  virtual Op<void> delete_room(std::string room) = 0;
  virtual Op<std::uint64_t> advance(std::string room, Advance advance) = 0;
  virtual Op<RoomView> set_paused(std::string room, bool paused) = 0;
  virtual Op<RoomView> reset(std::string room) = 0;
  virtual Op<TicketView> end_session(std::string room, std::string ticket,
                                     core::TicketStatus status) = 0;
  // The admissions of the room's current epoch, in order, from `from` (1-based seq).
  virtual Op<AdmissionsPage> admissions(std::string room, std::uint64_t from,
                                        std::uint64_t limit) = 0;
  // One step of every room's admission policy (the admission driver calls it about every 100 ms).
  virtual void drive_admissions() = 0;
  // Ticket ids whose pass expired by time (not ended by an operator), for AWS's expired_tokens.
  virtual Op<std::vector<std::string>> expired_tickets(std::string room) = 0;

  // False while the store cannot accept writes (e.g. the log failed, Redis is unreachable).
  virtual bool ready() const = 0;
  // Finishes what is pending (the embedded log's writes, the Redis store's connections); the
  // server has stopped calling it by then.
  virtual void stop() = 0;
  // Records read at start (the embedded log's replay, the Redis store's room logs).
  virtual std::uint64_t replayed_records() const = 0;
  // The store's own lines of /metrics (Prometheus text), if it has any.
  virtual void render_metrics(std::string& /*out*/) const {}

  // Where audit events go (docs/events.md); null: nobody listens. Set before serving.
  void set_event_sink(ops::EventSink* sink) { events_ = sink; }
  // Who hears of room changes (the event streams); null: nobody. Set before serving.
  void set_change_listener(RoomChangeListener* listener) { changes_ = listener; }

 protected:
  ops::EventSink* events_ = nullptr;
  RoomChangeListener* changes_ = nullptr;
};

}  // namespace waitroom::store
