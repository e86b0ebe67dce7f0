#include "engine/event_records.hpp"

#include <boost/json/serialize.hpp>

namespace waitroom::engine {

void seal_events(Effects& fx, const std::string& room, std::uint64_t& last_seq) {
  if (fx.events.empty()) return;
  EventsRecord record{room, last_seq + 1, {}};
  record.events.reserve(fx.events.size());
  for (ops::Event& event : fx.events) {
    event.seq = ++last_seq;
    record.events.push_back(
        ops::StoredEvent{event.id, event.type, event.time_ms, boost::json::serialize(event.data)});
  }
  fx.records.push_back(std::move(record));
}

FeedPart feed_part(const LogRecord& record) {
  FeedPart part;
  if (const auto* r = std::get_if<EventsRecord>(&record)) {
    if (!r->events.empty()) part.last_seq = r->first_seq + r->events.size() - 1;
    part.first_seq = r->first_seq;
    part.events = r->events;
  } else if (const auto* f = std::get_if<CounterFloorRecord>(&record)) {
    part.last_seq = f->event_seq;
  } else if (const auto* s = std::get_if<RoomSnapshotRecord>(&record)) {
    part.last_seq = s->last_event_seq;
    part.first_seq = s->kept_first_seq;
    part.events = s->kept_events;
  }
  return part;
}

}  // namespace waitroom::engine
