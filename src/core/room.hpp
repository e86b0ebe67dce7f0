#pragma once
// One waiting room's state and rules: the line, the serving counter, sessions and counters.
// Pure and single-threaded: the store guards each Room with its own lock and makes it durable.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/room_settings.hpp"
#include "core/ticket_status.hpp"

namespace waitroom::core {

// Positions are at most 40 bits (they travel inside ticket ids, see token/ticket_id.hpp).
inline constexpr std::uint64_t kMaxPosition = (std::uint64_t{1} << 40) - 1;
inline constexpr std::uint32_t kMaxEpoch = (std::uint32_t{1} << 24) - 1;
// How long a visitor who is not yet eligible is told to wait before asking again.
inline constexpr std::int64_t kNotYetRetryAfterS = 5;

// A waiting ticket costs 8 bytes: its id is derived from (room, epoch, position) under an HMAC,
// so no id is stored, and positions index a vector (DESIGN.md section 4).
struct TicketSlot {
  std::uint32_t entry_time_s = 0;
  std::uint32_t last_seen_s = 0;
};

struct Session {
  std::string pass;
  std::int64_t issued_at_s = 0;
  std::int64_t expires_at_s = 0;
  SessionStatus status = SessionStatus::active;
  std::uint64_t lsn = 0;  // log sequence number that made it durable (see store)
};

struct TicketState {
  std::uint64_t position = 0;
  TicketStatus status = TicketStatus::waiting;
  std::uint64_t ahead = 0;
  std::uint64_t serving = 0;
  std::uint64_t queue_length = 0;
  std::int64_t entry_time_s = 0;
  std::int64_t last_seen_s = 0;
};

struct RoomCounters {
  std::uint64_t queue_counter = 0;  // tickets handed out since the last reset (the tail)
  std::uint64_t serving = 0;
  std::uint64_t waiting = 0;  // tickets not yet eligible
  std::uint64_t active_sessions = 0;
  std::uint64_t passes_issued = 0;
  std::uint64_t completed = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t revoked = 0;
  std::uint64_t expired = 0;
  // Over the room's whole life, across resets (Prometheus counters must not go down).
  std::uint64_t tickets_issued_total = 0;
  std::uint64_t passes_issued_total = 0;
};

class Room {
 public:
  Room(std::string name, RoomSettings settings);

  const std::string& name() const { return name_; }
  const RoomSettings& settings() const { return settings_; }
  void set_settings(RoomSettings settings) { settings_ = std::move(settings); }
  const std::string& audience() const { return settings_.audience.empty() ? name_ : settings_.audience; }

  std::uint32_t epoch() const { return epoch_; }
  std::uint64_t queue_counter() const { return tickets_.size(); }
  std::uint64_t serving() const { return serving_; }
  bool paused() const { return paused_; }

  // Appends `count` tickets at the tail and returns the first new position, or an error when
  // the room's position space is exhausted.
  Result<std::uint64_t> enqueue(std::int64_t now_s, std::uint64_t count = 1);
  bool has_ticket(std::uint64_t position) const {
    return position >= 1 && position <= tickets_.size();
  }
  void mark_seen(std::uint64_t position, std::int64_t now_s);
  // Requires has_ticket(position).
  TicketState ticket(std::uint64_t position, std::int64_t now_s);

  // Moves the serving counter forward; it never moves back.
  Result<std::uint64_t> advance_to(std::uint64_t serving);
  Result<std::uint64_t> advance_by(std::uint64_t by);
  void set_paused(bool paused) { paused_ = paused; }
  // Starts a new epoch: an empty line, serving 0, no sessions. Lifetime totals are kept.
  void reset(std::uint32_t new_epoch);

  // Whether `position` may get its pass now: ok (also when it already has a live one), conflict
  // (not yet or paused, with Retry-After) or gone (its session ended).
  Result<void> check_pass_allowed(std::uint64_t position, std::int64_t now_s);
  // The session of `position`, with time-based expiry applied; nullptr when none was issued.
  const Session* session(std::uint64_t position, std::int64_t now_s);
  // Records a newly issued pass. If one exists already (a concurrent request won), keeps that one.
  const Session& add_session(std::uint64_t position, Session session);
  // Ends an active session (completed, abandoned, revoked). Ending it again with the same status
  // is a no-op; any other change of an ended session is a conflict.
  Result<bool> end_session(std::uint64_t position, SessionStatus status, std::int64_t now_s);

  RoomCounters counters(std::int64_t now_s);
  // Positions whose session expired by time, in position order. O(sessions): an operator call.
  std::vector<std::uint64_t> expired_positions(std::int64_t now_s);

 private:
  void expire_sessions(std::int64_t now_s);
  void count_end(SessionStatus status);

  std::string name_;
  RoomSettings settings_;
  std::uint32_t epoch_ = 1;
  std::uint64_t serving_ = 0;
  bool paused_ = false;
  std::vector<TicketSlot> tickets_;  // tickets_[position - 1]
  std::unordered_map<std::uint64_t, Session> sessions_;
  std::multimap<std::int64_t, std::uint64_t> active_by_expiry_;  // expires_at_s -> position
  RoomCounters totals_;  // passes_issued, completed, abandoned, revoked, expired, tickets_issued_total
};

}  // namespace waitroom::core
