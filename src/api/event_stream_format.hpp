#pragma once
// What a ticket's Server-Sent Events stream says and when (docs/events-stream.md): the response
// head, the `retry` hint, status messages, heartbeats, and which changes are worth a message.
// Pure functions, so the wire format is tested without a server.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/room.hpp"
#include "core/ticket_status.hpp"

namespace waitroom::api {

// How long a browser's EventSource waits before reconnecting after the stream ends.
inline constexpr std::int64_t kEventRetryMs = 3000;

// The 200 answer's head. The body ends when the connection closes.
std::string event_stream_head(unsigned http_version);
// `retry: 3000\n\n`: the stream's first block.
void append_retry(std::string& out);
// `id: <id>\nevent: status\ndata: <json>\n\n`; `json` is one line.
void append_status_event(std::string& out, std::uint64_t id, std::string_view json);
// `id: <id>\nevent: message\ndata: <json>\n\n`: the operators' message to the room's line was set
// or cleared (visitor::message_event_json); `json` is one line.
void append_message_event(std::string& out, std::uint64_t id, std::string_view json);
void append_heartbeat(std::string& out);

// Last-Event-ID as the stream's ids are written: decimal digits; anything else is no id.
std::optional<std::uint64_t> parse_last_event_id(std::string_view value);

// Whether `next` shows a visitor something `last` did not: position, status, people ahead,
// serving counter, estimate, admission time. The line's length alone is not worth a message.
bool status_changed(const core::TicketState& last, const core::TicketState& next);
// The statuses after which nothing changes any more: the stream sends them and ends.
bool is_final(core::TicketStatus status);

}  // namespace waitroom::api
