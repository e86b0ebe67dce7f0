#pragma once
// What a visitor is told about a room and their ticket, as JSON (docs/openapi.yaml: Ticket,
// RoomStatus, Draw). The public API, the room page's answer to apps and the event streams all send
// these, so they cannot differ.
#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace waitroom::visitor {

// `full` adds queue_length, entry_time, admitted_at and the room's message (the status poll's
// fields).
std::string ticket_json(const store::TicketView& t, bool full);
std::string ticket_json(std::string_view ticket, std::string_view room,
                        const core::TicketState& state, bool full,
                        const core::RoomMessage* message);
boost::json::object room_json(const store::RoomView& r);  // public room status
boost::json::object draw_json(const core::DrawInfo& d);   // a published pre-queue shuffle
// The operators' message: {"text", "set_at"} or null (the status answers' `message`).
boost::json::value message_json(const core::RoomMessagePtr& message);
// An event stream's `message` event: {"text", "set_at"}, or {"text": null} once it is cleared.
std::string message_event_json(const core::RoomMessage* message);

}  // namespace waitroom::visitor
