#pragma once
// A short history of every room's numbers for the operator dashboard's charts: one sample per
// room every interval (10 s), the newest kHistorySamples of them (an hour). It lives in memory
// only; what outlasts a restart is the minutes made from these samples (minute_history.hpp,
// history_archive.hpp). The sampler (history_sampler.hpp) writes it;
// /admin/v1/rooms/{room}/history reads it.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace waitroom::store {

inline constexpr std::int64_t kHistoryIntervalMs = 10'000;
inline constexpr std::size_t kHistorySamples = 360;  // one hour at kHistoryIntervalMs
// The admission rate is measured over (at least) this long, so that a shorter sampling interval
// (tests) still shows a steady rate rather than 0 or 1 admission per sample.
inline constexpr std::int64_t kRateWindowMs = 10'000;
// A sample's waits are those of the admissions in the last minute.
inline constexpr std::int64_t kSampleWaitedWindowS = 60;
inline constexpr double kWaitedP50 = 0.50;
inline constexpr double kWaitedP95 = 0.95;

struct HistorySample {
  std::int64_t at_ms = 0;  // the server clock when the sample was taken
  std::uint32_t epoch = 0;
  bool paused = false;
  std::uint64_t queue_length = 0;  // tickets handed out since the last reset
  std::uint64_t waiting = 0;
  std::uint64_t serving = 0;
  std::uint64_t admitted = 0;  // admissions this epoch, cumulative
  // Admissions over the last kRateWindowMs (at least since the previous sample), per minute;
  // nullopt for a room's first sample (or when the clock did not move).
  std::optional<double> admissions_per_minute;
  std::optional<double> arrivals_per_minute;  // tickets handed out, over the same stretch
  // How long the admissions of the last kSampleWaitedWindowS waited (join → admission): the
  // median and the 95th percentile; nullopt when nobody was admitted then.
  std::optional<std::int64_t> waited_p50_s;
  std::optional<std::int64_t> waited_p95_s;
  std::uint64_t active_sessions = 0;
  std::optional<core::Eta> eta;  // for someone joining at that moment
  // This epoch, cumulative: tickets that left the line or did not claim their pass in time, and
  // sessions that ran out (the minutes' expiries).
  std::uint64_t tickets_expired = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t tickets_left = 0;  // of tickets_expired: left the line (the rest: unclaimed)
  // Adaptive admission: its controller's limit on places held (none: not found yet, or another
  // mode), the places held, and the site's p95 and error ratio as the controller read them.
  std::optional<std::uint64_t> active_limit;
  std::optional<std::uint64_t> held;
  std::optional<double> site_p95_ms;
  std::optional<double> site_error_ratio;
};

// Builds a sample from a room's stats; `base` (an earlier sample of the room, if any) gives the
// rates: admissions and arrivals since `base`, per minute. After a reset (new epoch) those since
// the reset count.
HistorySample make_sample(const RoomStats& room, std::int64_t at_ms, const HistorySample* base);

// The newest `capacity` samples of one room, in a fixed block allocated once.
class SampleRing {
 public:
  explicit SampleRing(std::size_t capacity);
  void push(const HistorySample& sample);       // drops the oldest when full
  std::vector<HistorySample> snapshot() const;  // oldest first
  const HistorySample* newest() const;          // null when empty
  // The rate's base for a sample at `at_ms`: the newest sample at least kRateWindowMs older, or
  // else the oldest there is; null when empty.
  const HistorySample* rate_base(std::int64_t at_ms) const;
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }

 private:
  std::vector<HistorySample> slots_;
  std::size_t next_ = 0;  // where the next sample goes
  std::size_t size_ = 0;
};

// Every room's ring. Thread-safe: the sampler writes while request threads read.
class RoomHistory {
 public:
  explicit RoomHistory(std::int64_t interval_ms = kHistoryIntervalMs,
                       std::size_t capacity = kHistorySamples);
  // Records one sample of each room in `rooms`; rings of rooms not listed (deleted) are dropped.
  // Returns the samples, in the order of `rooms`.
  std::vector<HistorySample> record(const std::vector<RoomStats>& rooms, std::int64_t at_ms);
  // The room's samples, oldest first; empty when the sampler has not seen the room yet.
  std::vector<HistorySample> samples(std::string_view room) const;
  std::int64_t interval_ms() const { return interval_ms_; }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::int64_t interval_ms_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, SampleRing, std::less<>> rings_;
};

}  // namespace waitroom::store
