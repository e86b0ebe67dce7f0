#pragma once
// What a visitor is told about a room and their ticket, as JSON (docs/openapi.yaml: Ticket,
// RoomStatus, Draw). The public API, the room page's answer to apps and the event streams all send
// these, so they cannot differ.
#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace waitroom::visitor {

// `full` adds queue_length, entry_time and admitted_at (the status poll's fields).
std::string ticket_json(const store::TicketView& t, bool full);
std::string ticket_json(std::string_view ticket, std::string_view room,
                        const core::TicketState& state, bool full);
boost::json::object room_json(const store::RoomView& r);  // public room status
boost::json::object draw_json(const core::DrawInfo& d);   // a published pre-queue shuffle

}  // namespace waitroom::visitor
