#pragma once
// The query of GET /admin/v1/rooms/{room}/history: which stretch of a room's history, at which
// step (docs/openapi.yaml, docs/dashboard.md).
//
//   step   seconds between points: 10 (the default) for the 10-second samples of the last hour,
//          or a multiple of 60 for the minutes kept for history_days, summed over each step
//   from   where the points start, ms since 1970-01-01T00:00Z or an RFC 3339 time; by default
//          the samples' window (an hour) or an hour before `to`
//   to     where they end (not included), the same way; by default now
#include <cstdint>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::api {

inline constexpr std::int64_t kSampleStepS = 10;
// A week of minutes: more points than any chart draws, so more is a mistake.
inline constexpr std::int64_t kMaxHistoryPoints = 10'080;

struct HistoryRange {
  std::int64_t step_s = kSampleStepS;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  bool asked = false;  // the query named from, to or step (otherwise: every sample there is)
  bool samples() const { return step_s == kSampleStepS; }
};

// `samples_window_ms`: how far back the 10-second samples reach from `now_ms`. A bad parameter
// is a bad_request naming it.
core::Result<HistoryRange> parse_history_range(std::string_view query, std::int64_t now_ms,
                                               std::int64_t samples_window_ms);

}  // namespace waitroom::api
