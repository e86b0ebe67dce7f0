#pragma once
// Fills a RoomHistory: one sample of every room each interval, on a thread of its own. Its own
// thread rather than the admission driver's because that one stops under the test clock, and a
// sample is a read of every room's counters (a short lock per room, as a /metrics scrape takes).
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "store/room_history.hpp"
#include "store/store.hpp"

namespace waitroom::store {

class HistorySampler {
 public:
  // Samples are paced by the steady clock every history.interval_ms() and stamped with `clock`.
  HistorySampler(Store& store, RoomHistory& history, const core::Clock& clock);
  ~HistorySampler();  // stops the thread
  HistorySampler(const HistorySampler&) = delete;
  HistorySampler& operator=(const HistorySampler&) = delete;

  void start();  // takes the first sample at once
  void stop();
  // One sample now, on the caller's thread (what the thread does each interval).
  void sample_once();

 private:
  Store& store_;
  RoomHistory& history_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace waitroom::store
