#include "core/room.hpp"

#include <algorithm>

namespace waitroom::core {

namespace {
std::uint32_t to_u32_seconds(std::int64_t s) {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(s, 0, UINT32_MAX));
}
}  // namespace

Room::Room(std::string name, RoomSettings settings)
    : name_(std::move(name)), settings_(std::move(settings)) {}

Result<std::uint64_t> Room::enqueue(std::int64_t now_s, std::uint64_t count) {
  if (count == 0 || tickets_.size() + count > kMaxPosition)
    return fail(ErrorCode::conflict, "this room has handed out every position it can; reset it");
  const std::uint64_t first = tickets_.size() + 1;
  const TicketSlot slot{to_u32_seconds(now_s), to_u32_seconds(now_s)};
  tickets_.resize(tickets_.size() + count, slot);
  totals_.tickets_issued_total += count;
  return first;
}

void Room::mark_seen(std::uint64_t position, std::int64_t now_s) {
  if (has_ticket(position)) tickets_[position - 1].last_seen_s = to_u32_seconds(now_s);
}

TicketState Room::ticket(std::uint64_t position, std::int64_t now_s) {
  const TicketSlot& slot = tickets_[position - 1];
  TicketState state;
  state.position = position;
  state.serving = serving_;
  state.queue_length = tickets_.size();
  state.entry_time_s = slot.entry_time_s;
  state.last_seen_s = slot.last_seen_s;
  if (const Session* s = session(position, now_s)) {
    state.status = ticket_status_of(s->status);
  } else if (position <= serving_) {
    state.status = TicketStatus::eligible;
  } else {
    state.status = TicketStatus::waiting;
    state.ahead = position - serving_ - 1;
  }
  return state;
}

Result<std::uint64_t> Room::advance_to(std::uint64_t serving) {
  if (serving > kMaxPosition) return fail(ErrorCode::bad_request, "serving counter out of range");
  if (serving < serving_)
    return fail(ErrorCode::conflict, "the serving counter never moves back (now " +
                                         std::to_string(serving_) + ")");
  serving_ = serving;
  return serving_;
}

Result<std::uint64_t> Room::advance_by(std::uint64_t by) {
  if (by > kMaxPosition - serving_) return fail(ErrorCode::bad_request, "serving counter out of range");
  return advance_to(serving_ + by);
}

void Room::reset(std::uint32_t new_epoch) {
  epoch_ = new_epoch;
  serving_ = 0;
  tickets_ = {};
  sessions_ = {};
  active_by_expiry_.clear();
  // Stats start again with the epoch; only the lifetime ticket total (a Prometheus counter) stays.
  const RoomCounters lifetime = totals_;
  totals_ = {};
  totals_.tickets_issued_total = lifetime.tickets_issued_total;
  totals_.passes_issued_total = lifetime.passes_issued_total;
}

Result<void> Room::check_pass_allowed(std::uint64_t position, std::int64_t now_s) {
  if (const Session* s = session(position, now_s)) {
    if (s->status == SessionStatus::active) return {};  // asking again returns the same pass
    return fail(ErrorCode::gone, "this ticket's session has ended (" +
                                     std::string(to_string(s->status)) + ")");
  }
  if (position > serving_)
    return fail(ErrorCode::conflict,
                "not your turn yet: " + std::to_string(position - serving_ - 1) + " ahead of you",
                kNotYetRetryAfterS);
  if (paused_) return fail(ErrorCode::conflict, "the room is paused", kNotYetRetryAfterS);
  return {};
}

const Session* Room::session(std::uint64_t position, std::int64_t now_s) {
  auto it = sessions_.find(position);
  if (it == sessions_.end()) return nullptr;
  if (it->second.status == SessionStatus::active && it->second.expires_at_s <= now_s)
    expire_sessions(now_s);
  return &it->second;
}

const Session& Room::add_session(std::uint64_t position, Session session) {
  auto [it, inserted] = sessions_.try_emplace(position, std::move(session));
  if (inserted) {
    ++totals_.passes_issued;
    ++totals_.passes_issued_total;
    if (it->second.status == SessionStatus::active)
      active_by_expiry_.emplace(it->second.expires_at_s, position);
    else
      count_end(it->second.status);
  }
  return it->second;
}

Result<bool> Room::end_session(std::uint64_t position, SessionStatus status, std::int64_t now_s) {
  auto it = sessions_.find(position);
  if (it == sessions_.end())
    return fail(ErrorCode::conflict, "no pass has been issued for this ticket");
  Session& s = it->second;
  if (s.status == SessionStatus::active && s.expires_at_s <= now_s) expire_sessions(now_s);
  if (s.status == status) return false;
  if (s.status != SessionStatus::active)
    return fail(ErrorCode::conflict,
                "the session has already ended (" + std::string(to_string(s.status)) + ")");
  auto range = active_by_expiry_.equal_range(s.expires_at_s);
  for (auto i = range.first; i != range.second; ++i) {
    if (i->second == position) {
      active_by_expiry_.erase(i);
      break;
    }
  }
  s.status = status;
  count_end(status);
  return true;
}

RoomCounters Room::counters(std::int64_t now_s) {
  expire_sessions(now_s);
  RoomCounters c = totals_;
  c.queue_counter = tickets_.size();
  c.serving = serving_;
  c.waiting = tickets_.size() > serving_ ? tickets_.size() - serving_ : 0;
  c.active_sessions = active_by_expiry_.size();
  return c;
}

std::vector<std::uint64_t> Room::expired_positions(std::int64_t now_s) {
  expire_sessions(now_s);
  std::vector<std::uint64_t> out;
  for (const auto& [position, s] : sessions_)
    if (s.status == SessionStatus::expired) out.push_back(position);
  std::sort(out.begin(), out.end());
  return out;
}

void Room::expire_sessions(std::int64_t now_s) {
  while (!active_by_expiry_.empty() && active_by_expiry_.begin()->first <= now_s) {
    auto it = sessions_.find(active_by_expiry_.begin()->second);
    if (it != sessions_.end()) {
      it->second.status = SessionStatus::expired;
      count_end(SessionStatus::expired);
    }
    active_by_expiry_.erase(active_by_expiry_.begin());
  }
}

void Room::count_end(SessionStatus status) {
  switch (status) {
    case SessionStatus::completed: ++totals_.completed; break;
    case SessionStatus::abandoned: ++totals_.abandoned; break;
    case SessionStatus::revoked: ++totals_.revoked; break;
    case SessionStatus::expired: ++totals_.expired; break;
    case SessionStatus::active: break;
  }
}

}  // namespace waitroom::core
