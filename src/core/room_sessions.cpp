// Room's sessions: the passes it issued, their renewals and ends, and the counters they keep.
// The rest of Room (the line, admission steps, estimates, events) is in room.cpp.
#include <algorithm>
#include <string>
#include <utility>

#include "core/room.hpp"

namespace waitroom::core {

Result<void> Room::check_pass_allowed(std::uint64_t position, std::int64_t now_s) {
  if (const Session* s = session(position, now_s)) {
    if (s->status == TicketStatus::admitted) return {};  // asking again returns the same pass
    return fail(ErrorCode::gone,
                "this ticket's session has ended (" + std::string(to_string(s->status)) + ")");
  }
  const TicketSlot& slot = tickets_[position - 1];
  if (claim_expired(slot, now_s))
    return fail(ErrorCode::gone, "this ticket expired: its pass was not claimed within " +
                                     std::to_string(settings_.claim_timeout_s) + " s of its turn");
  if (slot.phase == TicketPhase::left || idle(slot, now_s))
    return fail(ErrorCode::gone, "this ticket expired: its visitor was not seen for " +
                                     std::to_string(settings_.ticket_idle_timeout_s) + " s");
  if (slot.phase == TicketPhase::waiting) {
    if (queueing_ == Queueing::random)
      return fail(ErrorCode::conflict, "not your turn yet: waiting for the draw",
                  kNotYetRetryAfterS);
    if (schedule_.in_prequeue(position))
      return fail(ErrorCode::conflict, "the pre-queue has not started yet", kNotYetRetryAfterS);
    const std::uint64_t rank = schedule_.rank_of(position);
    const std::uint64_t ahead = rank > serving_ ? rank - serving_ - 1 : 0;
    return fail(ErrorCode::conflict,
                "not your turn yet: " + std::to_string(ahead) + " ahead of you",
                kNotYetRetryAfterS);
  }
  if (paused()) return fail(ErrorCode::conflict, "the room is paused", kNotYetRetryAfterS);
  return {};
}

const Session* Room::session(std::uint64_t position, std::int64_t now_s) {
  auto it = sessions_.find(position);
  if (it == sessions_.end()) return nullptr;
  if (it->second.status == TicketStatus::admitted && it->second.expires_at_s <= now_s)
    expire_sessions(now_s);
  return &it->second;
}

const Session& Room::add_session(std::uint64_t position, Session session) {
  auto [it, inserted] = sessions_.try_emplace(position, std::move(session));
  if (inserted) {
    notices_.erase(position);  // the wait is over: the contact is erased
    TicketSlot& slot = tickets_[position - 1];
    const bool active = it->second.status == TicketStatus::admitted;
    if (slot.phase == TicketPhase::admitted) {
      --unclaimed_count_;
      if (!active) held_extra_seats_ -= extra_seats(position);  // a replayed session, ended
    } else {
      if (active)
        held_extra_seats_ += extra_seats(position);  // a record written before admissions were
                                                     // logged: the pass implies the admission
      if (slot.phase == TicketPhase::left) --left_count_;
      if (slot.phase == TicketPhase::unclaimed) --unclaimed_expired_;
      if (slot.phase == TicketPhase::waiting) note_stopped_waiting(position);
      // An unclaimed turn was admitted already: its wait and its place in the admission order
      // are counted (counting them again made the room one admission more, one waiting less).
      const bool admitted_before = slot.phase == TicketPhase::unclaimed;
      slot.phase = TicketPhase::admitted;
      if (!admitted_before) {
        slot.admitted_at_s = to_u32_seconds(it->second.issued_at_s);
        waits_.add(slot.admitted_at_s,
                   std::max<std::int64_t>(
                       0, static_cast<std::int64_t>(slot.admitted_at_s) - slot.entry_time_s));
        admitted_order_.push_back(position);
      }
    }
    ++totals_.passes_issued;
    ++totals_.passes_issued_total;
    if (it->second.status == TicketStatus::admitted)
      active_by_expiry_.emplace(it->second.expires_at_s, position);
    else
      count_end(it->second.status);
  }
  return it->second;
}

Result<void> Room::renew_session(std::uint64_t position, std::string pass,
                                 std::int64_t expires_at_s, std::uint64_t lsn, bool revive) {
  auto it = sessions_.find(position);
  if (it == sessions_.end())
    return fail(ErrorCode::conflict, "no pass has been issued for this ticket");
  Session& s = it->second;
  if (s.status == TicketStatus::expired && revive) {
    --totals_.expired;
    s.status = TicketStatus::admitted;
    held_extra_seats_ += extra_seats(position);
  } else if (s.status != TicketStatus::admitted) {
    return fail(ErrorCode::gone,
                "the session has ended (" + std::string(to_string(s.status)) + ")");
  } else {
    unindex_active(position, s.expires_at_s);
  }
  s.previous_pass = std::move(s.pass);
  s.previous_expires_at_s = s.expires_at_s;
  s.pass = std::move(pass);
  s.expires_at_s = expires_at_s;
  s.lsn = lsn;
  active_by_expiry_.emplace(expires_at_s, position);
  return {};
}

void Room::unindex_active(std::uint64_t position, std::int64_t expires_at_s) {
  auto range = active_by_expiry_.equal_range(expires_at_s);
  for (auto i = range.first; i != range.second; ++i) {
    if (i->second == position) {
      active_by_expiry_.erase(i);
      return;
    }
  }
}

Result<bool> Room::end_session(std::uint64_t position, TicketStatus status, std::int64_t now_s) {
  auto it = sessions_.find(position);
  if (it == sessions_.end())
    return fail(ErrorCode::conflict, "no pass has been issued for this ticket");
  Session& s = it->second;
  if (s.status == TicketStatus::admitted && s.expires_at_s <= now_s) expire_sessions(now_s);
  if (s.status == status) return false;
  if (s.status != TicketStatus::admitted)
    return fail(ErrorCode::conflict,
                "the session has already ended (" + std::string(to_string(s.status)) + ")");
  unindex_active(position, s.expires_at_s);
  s.status = status;
  count_end(status);
  held_extra_seats_ -= extra_seats(position);
  return true;
}

RoomCounters Room::counters(std::int64_t now_s) {
  expire_sessions(now_s);
  RoomCounters c = totals_;
  c.queue_counter = tickets_.size();
  c.serving = serving_;
  c.waiting = waiting_count();
  c.eligible = unclaimed_count_;
  c.admitted = admitted_order_.size();
  c.tickets_expired = left_count_ + unclaimed_expired_;
  c.tickets_left = left_count_;
  c.tickets_unclaimed = unclaimed_expired_;
  c.active_sessions = active_by_expiry_.size();
  return c;
}

std::vector<std::uint64_t> Room::expired_positions(std::int64_t now_s) {
  expire_sessions(now_s);
  std::vector<std::uint64_t> out;
  for (const auto& [position, s] : sessions_)
    if (s.status == TicketStatus::expired) out.push_back(position);
  std::sort(out.begin(), out.end());
  return out;
}

void Room::expire_sessions(std::int64_t now_s) {
  while (!active_by_expiry_.empty() && active_by_expiry_.begin()->first <= now_s) {
    auto it = sessions_.find(active_by_expiry_.begin()->second);
    if (it != sessions_.end()) {
      it->second.status = TicketStatus::expired;
      count_end(TicketStatus::expired);
      held_extra_seats_ -= extra_seats(it->first);
    }
    active_by_expiry_.erase(active_by_expiry_.begin());
  }
}

void Room::count_end(TicketStatus status) {
  switch (status) {
    case TicketStatus::completed:
      ++totals_.completed;
      break;
    case TicketStatus::abandoned:
      ++totals_.abandoned;
      break;
    case TicketStatus::revoked:
      ++totals_.revoked;
      break;
    case TicketStatus::expired:
      ++totals_.expired;
      break;
    case TicketStatus::waiting:  // none of these ends a session
    case TicketStatus::eligible:
    case TicketStatus::admitted:
      break;
  }
}

}  // namespace waitroom::core
