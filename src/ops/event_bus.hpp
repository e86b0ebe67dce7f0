#pragma once
// One EventSink that fans out to every configured sink (webhooks, later perhaps a log or SSE), so
// producers hold a single pointer whatever is configured.
#include <memory>
#include <vector>

#include "ops/event_sink.hpp"

namespace waitroom::ops {

class EventBus final : public EventSink {
 public:
  // Start-up only: add every sink before the first publish(). The sink list is then read without
  // a lock, which is what keeps publish() cheap.
  void add(std::shared_ptr<EventSink> sink);

  // Hands the event to each sink in the order they were added.
  void publish(const Event& event) override;

  // True when no sink is configured: callers skip building events nobody would receive.
  bool empty() const { return sinks_.empty(); }

 private:
  std::vector<std::shared_ptr<EventSink>> sinks_;
};

}  // namespace waitroom::ops
