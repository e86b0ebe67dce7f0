#include "engine/room_reads.hpp"

#include <algorithm>
#include <utility>

#include "token/constant_time.hpp"

namespace waitroom::engine {

using core::ErrorCode;
using core::fail;

RoomView room_view(core::Room& room, std::int64_t now_ms) {
  const core::DrawInfo* drawing = room.running_drawing();
  return RoomView{room.name(),
                  room.settings(),
                  room.epoch(),
                  room.paused(),
                  room.counters(now_ms / 1000),
                  room.eta_for_newcomer(now_ms),
                  room.admission(),
                  room.queueing(),
                  room.event_status(now_ms / 1000),
                  room.draws(),
                  room.message(),
                  !room.codes().empty(),
                  drawing ? std::optional<core::DrawInfo>(*drawing) : std::nullopt,
                  room.sold_out(),
                  room.inventory(),
                  room.active_limit(),
                  room.notices().size(),
                  room.notices().outbox().size()};
}

RoomStats room_stats(core::Room& room, std::int64_t now_ms) {
  RoomView view = room_view(room, now_ms);
  const std::int64_t now_s = now_ms / 1000;
  RoomStats stats{std::move(view),     room.line_status(now_s), room.waits(),
                  room.active_limit(), room.held(now_s),        std::nullopt,
                  std::nullopt};
  if (room.inventory()) stats.inventory = inventory_view(room, now_s);
  return stats;
}

InventoryView inventory_view(core::Room& room, std::int64_t now_s) {
  return InventoryView{room.inventory(), room.reserved(now_s),
                       static_cast<std::uint64_t>(room.settings().reserve_per_session),
                       room.sold_out()};
}

PassView pass_view(const core::Session& s, std::int64_t now_s) {
  return PassView{s.pass, s.expires_at_s, std::max<std::int64_t>(s.expires_at_s - now_s, 0)};
}

AdmissionsPage admissions_page(const core::Room& room, const token::TicketIdCodec& ids,
                               std::uint64_t from, std::uint64_t limit) {
  const auto& order = room.admission_order();
  AdmissionsPage page;
  page.total = order.size();
  const std::uint64_t first = std::max<std::uint64_t>(from, 1);
  for (std::uint64_t seq = first; seq <= order.size() && seq < first + limit; ++seq) {
    const std::uint64_t p = order[seq - 1];
    page.admissions.push_back(
        AdmissionEntry{seq, p, ids.encode(room.name(), room.epoch(), p), room.admitted_at(p)});
  }
  page.next = first + page.admissions.size();
  return page;
}

std::vector<std::string> expired_ticket_ids(core::Room& room, const token::TicketIdCodec& ids,
                                            std::int64_t now_s) {
  std::vector<std::string> out;
  for (std::uint64_t position : room.expired_positions(now_s))
    out.push_back(ids.encode(room.name(), room.epoch(), position));
  return out;
}

core::Result<PassCheck> check_session_pass(core::Room& room, std::uint64_t position,
                                           std::string ticket, std::string pass,
                                           std::int64_t now_s) {
  const core::Session* s = room.has_ticket(position) ? room.session(position, now_s) : nullptr;
  auto same = [&pass](const std::string& issued) {
    return token::constant_time_equal(issued, pass);
  };
  const bool current = s && same(s->pass);
  const bool previous = s && !current && !s->previous_pass.empty() &&
                        now_s < s->previous_expires_at_s && same(s->previous_pass);
  if (!current && !previous)
    return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
  if (s->status != core::TicketStatus::admitted)
    return fail(ErrorCode::gone,
                "this pass's session has ended (" + std::string(core::to_string(s->status)) + ")");
  const core::RoomSettings& st = room.settings();
  const bool renewal_due =
      st.renew_on_activity && (previous || (s->expires_at_s - now_s) * 2 < st.pass_lifetime_s);
  return PassCheck{std::move(ticket),
                   std::move(pass),
                   position,
                   s->issued_at_s,
                   previous ? s->previous_expires_at_s : s->expires_at_s,
                   renewal_due,
                   std::nullopt,
                   room.seats(position)};
}

}  // namespace waitroom::engine
