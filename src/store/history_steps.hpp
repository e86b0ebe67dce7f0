#pragma once
// The minutes of a room (minute_history.hpp) over a coarser step, for a day's or a week's chart:
// counts summed over the step (waits merged), the room's state as the step's last minute left it.
#include <cstdint>
#include <optional>
#include <vector>

#include "store/minute_history.hpp"

namespace waitroom::store {

struct HistoryPoint {
  std::int64_t at_ms = 0;     // the step's start: a multiple of the step since 1970-01-01T00:00Z
  std::uint32_t minutes = 0;  // minutes kept in the step (fewer while the server was down)
  std::uint64_t arrivals = 0;
  std::uint64_t admissions = 0;
  std::uint64_t expiries = 0;  // left_line + unclaimed + sessions_expired
  std::uint64_t left_line = 0;
  std::uint64_t unclaimed = 0;
  std::uint64_t sessions_expired = 0;
  // The step's minutes' waits merged: its percentiles are those of all its admissions.
  core::WaitHistogram waits;
  // At the end of the step's last minute kept:
  std::uint32_t epoch = 0;
  std::uint64_t waiting = 0;
  std::uint64_t active_sessions = 0;
  std::optional<EtaRange> eta;
  bool paused = false;
};

// One point per step that holds a minute, oldest first; `minutes` oldest first, `step_ms` a
// multiple of a minute.
std::vector<HistoryPoint> sum_by_step(const std::vector<MinuteAggregate>& minutes,
                                      std::int64_t step_ms);

}  // namespace waitroom::store
