#pragma once
// An audit event: one state change worth telling the outside world about (a room paused, a
// visitor admitted, a reset). Events are plain values; a store keeps them in the event feed
// (event_feed.hpp), which webhooks (webhook_sink.hpp) deliver.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

namespace waitroom::ops {

struct Event {
  std::string id;            // new_event_id(): receivers deduplicate re-sent events by it
  std::string type;          // dotted name, e.g. "room.reset"; webhooks filter on it
  std::string room;          // the room the change happened in; empty for server-wide events
  std::int64_t time_ms = 0;  // when it happened, ms since the Unix epoch (from core::Clock)
  boost::json::object data;  // type-specific details
  // The event's place in its room's feed (1, 2, 3...; never reused, also across a delete): a
  // receiver or a reader of GET /admin/v1/events continues after the last one it has. 0: not
  // numbered (nobody records the room's events).
  std::uint64_t seq = 0;
};

// A random version-4 UUID in lowercase hex, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx": 122 random bits
// from OpenSSL's CSPRNG, so ids are unique without coordination between processes.
std::string new_event_id();

// "2024-05-06T07:08:09.123Z": RFC 3339, UTC, always three fractional digits.
std::string format_rfc3339_ms(std::int64_t time_ms);

// {"id","seq","type","room","time" (RFC 3339),"time_ms","data"}: what webhooks deliver ("seq"
// only when numbered).
boost::json::object event_json(const Event& event);

}  // namespace waitroom::ops
