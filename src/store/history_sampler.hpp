#pragma once
// Fills a RoomHistory: one sample of every room each interval, on a thread of its own. Its own
// thread rather than the admission driver's because that one stops under the test clock, and a
// sample is a read of every room's counters (a short lock per room, as a /metrics scrape takes).
// With an archive it also turns the samples into minutes (minute_history.hpp) and keeps each
// minute once it has ended, drops the minutes of deleted rooms, and prunes old days once a day.
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "store/history_archive.hpp"
#include "store/minute_history.hpp"
#include "store/room_history.hpp"
#include "store/store.hpp"

namespace waitroom::store {

class HistorySampler {
 public:
  // Samples are paced by the steady clock every history.interval_ms() and stamped with `clock`.
  // `archive` (null: none) keeps the minutes.
  HistorySampler(Store& store, RoomHistory& history, const core::Clock& clock,
                 HistoryArchive* archive = nullptr);
  ~HistorySampler();  // stops the thread
  HistorySampler(const HistorySampler&) = delete;
  HistorySampler& operator=(const HistorySampler&) = delete;

  void start();  // takes the first sample at once
  void stop();
  // One sample now, on the caller's thread (what the thread does each interval).
  void sample_once();

 private:
  // Only on the sampling thread:
  void keep_minutes(const std::vector<RoomStats>& rooms, const std::vector<HistorySample>& samples,
                    std::int64_t at_ms);

  Store& store_;
  RoomHistory& history_;
  const core::Clock& clock_;
  HistoryArchive* const archive_;
  std::map<std::string, MinuteAggregator, std::less<>> minutes_;  // per room seen
  std::vector<RoomMinute> unkept_;  // ended minutes the archive refused: tried again next time
  std::optional<std::int64_t> pruned_day_;
  bool failing_ = false;  // the last append failed (logged once until it works again)
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace waitroom::store
