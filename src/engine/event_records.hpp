#pragma once
// A change's audit events in its room's log (EventsRecord): numbered in the room's feed and
// appended with the change's other records, so they become durable in the same commit; and read
// back when the log is replayed, a copy follows Redis, or a snapshot is loaded.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/effects.hpp"
#include "engine/log_records.hpp"
#include "ops/stored_event.hpp"

namespace waitroom::engine {

// Numbers the effects' events after `last_seq` (the room's last number, which it advances) and
// appends the EventsRecord that carries them after the change's other records; nothing when the
// change has none.
void seal_events(Effects& fx, const std::string& room, std::uint64_t& last_seq);

// What a record tells about its room's feed: the last number given (0: the record says nothing of
// it) and the events it carries, numbered from first_seq (an EventsRecord's, or the ones a
// snapshot kept).
struct FeedPart {
  std::uint64_t last_seq = 0;
  std::uint64_t first_seq = 0;
  std::vector<ops::StoredEvent> events;
};
FeedPart feed_part(const LogRecord& record);

}  // namespace waitroom::engine
