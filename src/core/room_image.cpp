// Room's snapshots: its state as plain data and back (core/room_image.hpp). The rest of Room is in
// room.cpp and room_sessions.cpp.
#include "core/room_image.hpp"

#include <algorithm>
#include <utility>

namespace waitroom::core {

RoomImage Room::image() const {
  RoomImage out;
  out.epoch = epoch_;
  out.serving = serving_;
  out.tickets = tickets_;
  for (TicketSlot& slot : out.tickets) slot.last_seen_s = 0;
  out.admitted_order = admitted_order_;
  out.left_count = left_count_;
  out.unclaimed_expired = unclaimed_expired_;
  out.unclaimed_count = unclaimed_count_;
  for (std::uint64_t p : claim_queue_)
    if (tickets_[p - 1].phase == TicketPhase::admitted && !sessions_.contains(p))
      out.claim_queue.push_back(p);
  out.sessions.reserve(sessions_.size());
  for (const auto& [position, s] : sessions_) {
    Session kept = s;
    kept.lsn = 0;
    if (s.status != TicketStatus::admitted) {  // ended: its passes are never handed out again
      kept.pass.clear();
      kept.previous_pass.clear();
      kept.previous_expires_at_s = 0;
    }
    out.sessions.emplace_back(position, std::move(kept));
  }
  std::sort(out.sessions.begin(), out.sessions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out.totals = totals_;
  out.schedule = schedule_.image();
  if (message_) out.message = *message_;
  out.codes = codes_.all();
  out.used_invitations = invitations_.used_list();
  out.identity_places = invitations_.places_list();
  out.active_limit = controller_.limit;
  out.inventory = inventory_;
  out.notices = notices_.list();
  return out;
}

Room Room::restore(std::string name, RoomSettings settings, RoomImage image) {
  Room room(std::move(name), std::move(settings));
  room.epoch_ = image.epoch;
  room.serving_ = image.serving;
  room.tickets_ = std::move(image.tickets);
  room.admitted_order_ = std::move(image.admitted_order);
  room.left_count_ = image.left_count;
  room.unclaimed_expired_ = image.unclaimed_expired;
  room.unclaimed_count_ = image.unclaimed_count;
  room.claim_queue_.assign(image.claim_queue.begin(), image.claim_queue.end());
  room.sessions_.reserve(image.sessions.size());
  for (auto& [position, s] : image.sessions) {
    if (s.status == TicketStatus::admitted)
      room.active_by_expiry_.emplace(s.expires_at_s, position);
    room.sessions_.emplace(position, std::move(s));
  }
  room.totals_ = image.totals;
  room.schedule_ = EventSchedule::restore(image.schedule);
  if (image.message) room.message_ = std::make_shared<const RoomMessage>(std::move(*image.message));
  for (AccessCode& code : image.codes) (void)room.codes_.add(std::move(code));
  room.invitations_.restore(std::move(image.used_invitations), std::move(image.identity_places));
  room.recount_lanes();
  for (const TicketSlot& slot : room.tickets_)
    if (slot.phase == TicketPhase::waiting) room.waiting_extra_seats_ += slot.party - 1u;
  // The seats beyond one of every place held: active sessions and unclaimed turns.
  for (const auto& [position, s] : room.sessions_)
    if (s.status == TicketStatus::admitted) room.held_extra_seats_ += room.extra_seats(position);
  for (std::uint64_t p : room.claim_queue_)
    if (room.tickets_[p - 1].phase == TicketPhase::admitted && !room.sessions_.contains(p))
      room.held_extra_seats_ += room.extra_seats(p);
  room.refresh_effective();  // the running event's overrides
  if (room.admission_.mode == AdmissionMode::adaptive) room.controller_.limit = image.active_limit;
  room.inventory_ = image.inventory;
  room.notices_.restore(std::move(image.notices));
  return room;
}

}  // namespace waitroom::core
