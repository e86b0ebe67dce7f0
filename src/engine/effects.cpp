#include "engine/effects.hpp"

#include <iterator>

namespace waitroom::engine {

void Effects::record(LogRecord record) {
  if (const auto* next = std::get_if<EnqueueRecord>(&record); next && !records.empty()) {
    if (auto* last = std::get_if<EnqueueRecord>(&records.back());
        last && last->room == next->room && last->epoch == next->epoch &&
        last->entry_time_s == next->entry_time_s && last->flags == next->flags &&
        last->lane == next->lane && last->party == next->party &&
        last->first_position + last->count == next->first_position) {
      last->count += next->count;
      return;
    }
  }
  records.push_back(std::move(record));
}

void Effects::event(const std::string& room, std::string_view type, boost::json::object data,
                    std::int64_t now_ms) {
  if (!wants_events) return;
  if (actor) data["actor"] = actor->json();
  events.push_back(
      ops::Event{ops::new_event_id(), std::string(type), room, now_ms, std::move(data)});
}

boost::json::object Actor::json() const {
  boost::json::object out{{"name", name}, {"via", via}};
  if (!token_id.empty()) out["token_id"] = token_id;
  return out;
}

void Effects::append(Effects&& later) {
  for (LogRecord& r : later.records) record(std::move(r));
  events.insert(events.end(), std::make_move_iterator(later.events.begin()),
                std::make_move_iterator(later.events.end()));
  changed = changed || later.changed;
}

}  // namespace waitroom::engine
