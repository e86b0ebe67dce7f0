#pragma once
// The audit events of a room's changes (docs/events.md), shared by both stores. Each store
// publishes under the room's lock, so a room's events leave in the order its changes happened.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/room.hpp"
#include "ops/event_sink.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::store {

// Nothing happens when `sink` is null (nobody listens).
void publish_event(ops::EventSink* sink, const core::Clock& clock, const std::string& room,
                   std::string_view type, boost::json::object data);
// An admission step: event moments, expiries, admissions, AWS's automatic counter increments.
void publish_step(ops::EventSink* sink, const core::Clock& clock, const token::TicketIdCodec& ids,
                  core::Room& room, const core::Admissions& step);
// AWS's per-minute waiting_room_metrics, with its field names.
void publish_metrics(ops::EventSink* sink, const core::Clock& clock, core::Room& room);

}  // namespace waitroom::store
