#include "ops/event_stream_metrics.hpp"

#include <fmt/format.h>

namespace waitroom::ops {

bool EventStreamMetrics::try_open(std::uint64_t limit) {
  std::uint64_t n = open_.load(std::memory_order_relaxed);
  do {
    if (n >= limit) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!open_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  opened_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void EventStreamMetrics::render(std::string& out) const {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    const std::atomic<std::uint64_t>& value;
  };
  const Family families[] = {
      {"waitroom_event_streams_open", "gauge", "Server-Sent Events streams open now.", open_},
      {"waitroom_event_streams_opened_total", "counter", "Server-Sent Events streams opened.",
       opened_},
      {"waitroom_event_streams_refused_total", "counter",
       "Server-Sent Events streams refused because limits.max_event_streams were open (503).",
       refused_},
      {"waitroom_event_streams_dropped_total", "counter",
       "Server-Sent Events streams closed because the client read too slowly.", dropped_},
      {"waitroom_event_messages_total", "counter",
       "Status messages sent on Server-Sent Events streams.", messages_},
  };
  for (const Family& f : families)
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", f.name, f.help, f.name, f.type,
                       f.name, f.value.load(std::memory_order_relaxed));
}

}  // namespace waitroom::ops
