#pragma once
// What both stores answer from a room's state, under the room's lock: the embedded store from its
// rooms, the Redis store from its copies. One implementation, so the two answer alike.
#include <cstdint>
#include <string>
#include <vector>

#include "core/room.hpp"
#include "engine/views.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::engine {

RoomView room_view(core::Room& room, std::int64_t now_ms);

RoomStats room_stats(core::Room& room, std::int64_t now_ms);
// The room's inventory (engine/inventory_ops.hpp changes it).
InventoryView inventory_view(core::Room& room, std::int64_t now_s);

// A session's pass as the API hands it out at `now_s`.
PassView pass_view(const core::Session& session, std::int64_t now_s);

// The admissions of the room's current epoch from `from` (1-based seq), at most `limit`.
AdmissionsPage admissions_page(const core::Room& room, const token::TicketIdCodec& ids,
                               std::uint64_t from, std::uint64_t limit);

// Ticket ids whose pass expired by time (AWS's expired_tokens).
std::vector<std::string> expired_ticket_ids(core::Room& room, const token::TicketIdCodec& ids,
                                            std::int64_t now_s);

// The gate's check: `pass` must be exactly the pass issued at `position` (or the one a renewal
// replaced, until it expires) and its session active. unauthorized when it is not the room's
// pass, gone when its session ended. The caller records the visitor as seen.
core::Result<PassCheck> check_session_pass(core::Room& room, std::uint64_t position,
                                           std::string ticket, std::string pass,
                                           std::int64_t now_s);

}  // namespace waitroom::engine
