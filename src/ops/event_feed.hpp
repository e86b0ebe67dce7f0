#pragma once
// The event feed (docs/events.md): every room's audit events, numbered per room, kept in memory
// from the commit that wrote them until every reader has them. The log is the outbox: the events
// are in the room's log (an EventsRecord, written with the change), so the store rebuilds this at
// start-up, and a compaction's snapshot keeps what is still here. Readers are the webhook sinks,
// each with a durable position per room (FeedCursors), and operators (GET /admin/v1/events).
//
// Bounded: a room keeps at most `max_room_bytes` of events; past that the oldest go, and a reader
// that had not got them is told how many it missed. With no reader the newest are kept, up to the
// bound, for operators to read.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "ops/stored_event.hpp"

namespace waitroom::ops {

// A reader's last acknowledged event per room.
using FeedPositions = std::map<std::string, std::uint64_t>;

// A name for a reader's key that is safe in a file name and a Redis key: the first 32 lowercase
// hex digits of its SHA-256.
std::string reader_id(const std::string& key);

// Where a reader's positions are kept across restarts (a file in the data dir; a hash in Redis).
class FeedCursors {
 public:
  virtual ~FeedCursors() = default;
  // nullopt: never saved, a new reader. An error: cannot be read now (try again).
  virtual core::Result<std::optional<FeedPositions>> load(const std::string& reader) = 0;
  virtual core::Result<void> save(const std::string& reader, const FeedPositions& positions) = 0;
  // Whether this process delivers for `reader` now. One process at a time does, so events leave
  // in order (Redis: a lease per reader); the others keep their copy trimmed from the saved
  // positions. The embedded store's process always does.
  virtual bool lead(const std::string& /*reader*/) { return true; }
};

// One event as a reader gets it.
struct FedEvent {
  std::string room;
  std::uint64_t seq = 0;
  StoredEvent event;
};

class EventFeed {
 public:
  explicit EventFeed(std::uint64_t max_room_bytes) : max_room_bytes_(max_room_bytes) {}

  // ---- set up before serving ----
  // A reader by a stable key (a webhook's url); returns its index. Until set_positions() it
  // holds every room's events (its positions are not known yet).
  std::size_t add_reader(std::string key);
  // The embedded store: an event may leave once its log position is durable. Default: at once.
  void set_durable(std::function<bool(std::uint64_t lsn)> durable);

  // ---- the store ----
  // A room's events numbered from `first_seq`, after the change that made them was written at
  // `lsn` (0: already durable). Events the room has already (a copy reloading) are skipped.
  void add(const std::string& room, std::uint64_t first_seq, std::vector<StoredEvent> events,
           std::uint64_t lsn = 0);
  // Records became durable: readers look again.
  void wake();
  // What a snapshot of the room keeps: its events still here, all of them, in order, and the
  // number of the first.
  std::vector<StoredEvent> kept(const std::string& room, std::uint64_t& first_seq) const;

  // ---- readers ----
  // Where the reader stands (from FeedCursors::load). `fresh`: a reader never seen before starts
  // at each room's newest event, not at what the feed kept from before it existed. Rooms the
  // positions do not name start at their first kept event.
  void set_positions(std::size_t reader, const FeedPositions& positions, bool fresh);
  FeedPositions positions(std::size_t reader) const;
  struct Pull {
    std::vector<FedEvent> events;
    std::uint64_t missed = 0;  // events dropped (max lag) before this reader got them
  };
  // Up to `max` durable events after the reader's positions, in order within each room, the rooms
  // taken in turn; waits up to `wait` while there are none. Empty after stop().
  Pull next(std::size_t reader, std::size_t max, std::chrono::milliseconds wait);
  // The reader has these (its last pull's): its positions move past them.
  void acknowledge(std::size_t reader, const std::vector<FedEvent>& delivered);
  // The reader's positions are saved up to `positions` (by this process or, in Redis, by the one
  // delivering): what every reader has saved is let go. A position is only let go once saved, so
  // a restart never finds a reader behind what the log still holds.
  void saved(std::size_t reader, const FeedPositions& positions);
  // Events kept that the reader has not acknowledged.
  std::uint64_t backlog(std::size_t reader) const;
  // Wakes every next() for good.
  void stop();

  // ---- operators ----
  struct Page {
    std::vector<FedEvent> events;
    std::uint64_t oldest = 0;  // the room's first kept event (0: none kept)
    std::uint64_t newest = 0;  // the last number the room gave (kept or not)
    bool known = false;        // the feed has heard of the room
  };
  // Durable events of `room` after `after`, at most `limit`.
  Page read(const std::string& room, std::uint64_t after, std::size_t limit) const;

  std::uint64_t max_room_bytes() const { return max_room_bytes_; }

 private:
  struct Kept {
    std::uint64_t seq;
    std::uint64_t lsn;
    StoredEvent event;
  };
  struct RoomFeed {
    std::deque<Kept> events;
    std::uint64_t bytes = 0;
    std::uint64_t newest = 0;  // the last number added (kept or since let go)
  };
  struct Reader {
    std::string key;
    bool positioned = false;  // set_positions() ran
    // Per room (absent: nothing of it yet): what it got, and what of that is saved.
    FeedPositions delivered;
    FeedPositions saved;
  };

  bool durable(std::uint64_t lsn) const { return lsn == 0 || !durable_ || durable_(lsn); }
  // Lets go of the room's events every reader has saved (with no reader: none), then of the
  // oldest past the bound. Under mu_.
  void trim(const std::string& room, RoomFeed& feed);
  static std::uint64_t at(const FeedPositions& positions, const std::string& room);
  static std::deque<Kept>::const_iterator first_after(const RoomFeed& feed, std::uint64_t seq);

  const std::uint64_t max_room_bytes_;
  std::function<bool(std::uint64_t)> durable_;
  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::map<std::string, RoomFeed> rooms_;
  std::vector<Reader> readers_;
  std::size_t turn_ = 0;  // the room next() starts from, so that no room starves the others
  bool stopped_ = false;
};

}  // namespace waitroom::ops
