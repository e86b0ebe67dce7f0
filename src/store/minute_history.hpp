#pragma once
// A room's history one minute at a time, the kind that outlasts a restart: what happened in each
// UTC minute (arrivals, admissions, expiries) and where the room stood at its end (waiting,
// active sessions, estimate, paused). Made from the 10-second samples (room_history.hpp) by
// differences of the room's cumulative counters; kept by a HistoryArchive (history_archive.hpp).
#include <cstdint>
#include <optional>

#include "core/wait_histogram.hpp"
#include "core/wait_log.hpp"
#include "store/room_history.hpp"

namespace waitroom::store {

inline constexpr std::int64_t kMsPerMinute = 60'000;
inline constexpr std::int64_t kMsPerDay = 86'400'000;

// The start of the UTC minute (or day) that holds `at_ms`.
std::int64_t minute_of(std::int64_t at_ms);
std::int64_t day_of(std::int64_t at_ms);

// A room's counters that only grow within an epoch (a reset starts them at 0 again).
struct CumulativeCounts {
  std::uint32_t epoch = 0;
  std::uint64_t tickets = 0;  // handed out (the queue counter)
  std::uint64_t admitted = 0;
  std::uint64_t tickets_expired = 0;  // left the line, or did not claim the pass in time
  std::uint64_t sessions_expired = 0;
  // Of tickets_expired, those that left the line (the rest did not claim in time); nullopt from
  // a minute kept before the history told them apart.
  std::optional<std::uint64_t> tickets_left;
  bool operator==(const CumulativeCounts&) const = default;
};
CumulativeCounts counts_of(const HistorySample& sample);

// The estimate for a newcomer, as the charts show it.
struct EtaRange {
  std::int64_t p50_s = 0;
  std::int64_t p90_s = 0;
  bool operator==(const EtaRange&) const = default;
};

struct MinuteAggregate {
  std::int64_t minute_ms = 0;  // the minute's start (UTC, a multiple of 60,000)
  // What happened in the minute:
  std::uint64_t arrivals = 0;          // tickets handed out
  std::uint64_t admissions = 0;        // tickets admitted
  std::uint64_t expiries = 0;          // the next three together (kept for older readers)
  std::uint64_t left_line = 0;         // waiting tickets whose visitor left (idle timeout)
  std::uint64_t unclaimed = 0;         // admitted tickets whose pass was not claimed in time
  std::uint64_t sessions_expired = 0;  // sessions that ran out
  // How long the visitors admitted in the minute waited (by when they were admitted).
  core::WaitHistogram waits;
  // Where the room stood at the minute's end (its last sample):
  std::uint64_t waiting = 0;
  std::uint64_t active_sessions = 0;
  std::optional<EtaRange> eta;  // p50/p90 for a newcomer; nullopt when there was none
  bool paused = false;
  // The cumulative counters then, epoch included: the next minute counts from them, also after a
  // restart (the archive's newest minute seeds the room's aggregator).
  CumulativeCounts end;
  bool operator==(const MinuteAggregate&) const = default;
};

// Turns one room's samples into minutes. A sample's counts since the previous sample belong to
// the sample's minute; a minute closes when the first sample of a later minute arrives, so a
// minute's counts may include up to one sample interval from before it (10 s), never twice.
// A reset (new epoch) counts what the new epoch's counters show: what happened between the last
// sample before the reset and the reset itself is lost. A room's first minute counts from its
// first sample, unless seeded with the minute before.
class MinuteAggregator {
 public:
  // The room's last minute before this process saw it (from the archive): the first sample's
  // counts are taken since its end. Ignored when the first sample is not in a later minute.
  void seed(const MinuteAggregate& previous);
  // Adds the room's next sample; returns the minute it closed, if any. `waits` (the room's, as
  // read with the sample; null: none) gives the closed minute its waits.
  std::optional<MinuteAggregate> add(const HistorySample& sample,
                                     const core::WaitLog* waits = nullptr);

 private:
  std::optional<MinuteAggregate> seed_;
  std::optional<CumulativeCounts> previous_;  // the last sample's (or the seed's) counts
  std::optional<MinuteAggregate> open_;       // the minute being counted, its end state so far
};

}  // namespace waitroom::store
