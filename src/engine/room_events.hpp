#pragma once
// The audit events of a room's admission steps (docs/events.md), shared by every operation that
// admits. They are collected into the operation's Effects and published by the store once the
// step's records are durable, in the order the room's changes happened.
#include <cstdint>

#include "core/room.hpp"
#include "engine/effects.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::engine {

// An admission step: event moments, expiries, admissions, AWS's automatic counter increments.
void step_events(Effects& fx, const token::TicketIdCodec& ids, core::Room& room,
                 const core::Admissions& step, std::int64_t now_ms);
// AWS's per-minute waiting_room_metrics, with its field names.
void metrics_event(Effects& fx, core::Room& room, std::int64_t now_ms);

}  // namespace waitroom::engine
