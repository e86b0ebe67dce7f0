#pragma once
// Reading JSON request bodies and writing the operator's JSON views, shared by the API's handlers.
// What visitors are shown is visitor/status_json.hpp.
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

// A query parameter that must be an integer in [min, max]; `fallback` when absent.
core::Result<std::uint64_t> query_uint(std::string_view query, std::string_view name,
                                       std::uint64_t fallback, std::uint64_t min,
                                       std::uint64_t max);

// The public status (visitor/status_json.hpp) with the room's settings and epoch.
boost::json::object room_admin_json(const store::RoomView& r);
// GET …/stats: the room's counters, how long the last 10 minutes' admissions waited, and whether
// the line moves (and why not). `now_s`: the room's clock.
boost::json::object stats_json(const store::RoomStats& r, std::int64_t now_s);

http::Response json_ok(const http::Request& req, const boost::json::value& body,
                       http::Status status = http::Status::ok);

}  // namespace waitroom::api
