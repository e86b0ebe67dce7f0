#include "ops/event_bus.hpp"

namespace waitroom::ops {

void EventBus::add(std::shared_ptr<EventSink> sink) {
  if (sink) sinks_.push_back(std::move(sink));
}

void EventBus::publish(const Event& event) {
  for (const auto& sink : sinks_) sink->publish(event);
}

}  // namespace waitroom::ops
