#pragma once
// An audit event as the log and the event feed keep it: its data serialized once, when the change
// that made it is committed, and spliced as is into every delivery and read after.
#include <cstdint>
#include <string>
#include <string_view>

namespace waitroom::ops {

struct StoredEvent {
  std::string id;
  std::string type;
  std::int64_t time_ms = 0;
  std::string data_json;  // a JSON object

  bool operator==(const StoredEvent&) const = default;
  // What it takes in memory and in the log, near enough: what max lag limits.
  std::size_t bytes() const { return id.size() + type.size() + data_json.size() + 24; }
};

// {"id","seq","type","room","time","time_ms","data"}: one event as webhooks deliver it and
// GET /admin/v1/events returns it (the same fields as event_json()).
void append_event_json(std::string& out, std::string_view room, std::uint64_t seq,
                       const StoredEvent& event);

}  // namespace waitroom::ops
