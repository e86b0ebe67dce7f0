#pragma once
// Reading JSON request bodies and writing the API's JSON views, shared by every handler.
#include <boost/json.hpp>

#include "core/error.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace waitroom::api {

// The request body as a JSON object; an empty body is an empty object. Anything else that is not
// an object is a 400 naming the problem.
core::Result<boost::json::object> read_json_object(const http::Request& req);
// A field that must be a non-negative integer, if present.
core::Result<std::optional<std::uint64_t>> read_uint(const boost::json::object& body,
                                                     std::string_view field, std::uint64_t min,
                                                     std::uint64_t max);

// `full` adds queue_length and entry_time (the status poll's fields).
std::string ticket_json(const store::TicketView& t, bool full);
std::string ticket_json(std::string_view ticket, std::string_view room,
                        const core::TicketState& state, bool full);
boost::json::object room_json(const store::RoomView& r);  // public room status
boost::json::object draw_json(const core::DrawInfo& d);   // a published pre-queue shuffle
boost::json::object room_admin_json(const store::RoomView& r);
boost::json::object stats_json(const store::RoomView& r);

http::Response json_ok(const http::Request& req, const boost::json::value& body,
                       http::Status status = http::Status::ok);

}  // namespace waitroom::api
