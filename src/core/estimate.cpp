#include "core/estimate.hpp"

#include <algorithm>
#include <cmath>

namespace waitroom::core {

namespace {
constexpr std::int64_t kPaceWindowMs = 60'000;
constexpr std::int64_t kPaceSampleMs = 1'000;
// Less than this observed and the pace is a guess: the policy's assumed pace is used instead.
constexpr std::int64_t kMinObservedSpanMs = 5'000;
constexpr std::int64_t kSlowStretchMs = 10'000;
}  // namespace

void LinePace::record(std::int64_t now_ms, std::uint64_t serving, std::uint64_t admitted,
                      bool telling) {
  if (!samples_.empty() && now_ms - samples_.back().at_ms < kPaceSampleMs) return;
  if (!telling) samples_.clear();
  samples_.push_back(Sample{now_ms, serving, admitted});
  while (samples_.size() > 1 && now_ms - samples_.front().at_ms > kPaceWindowMs)
    samples_.pop_front();
}

LinePace::Pace LinePace::observed(bool random) const {
  Pace pace;
  if (samples_.empty() || samples_.back().at_ms - samples_.front().at_ms < kMinObservedSpanMs)
    return pace;
  auto moved = [random](const Sample& from, const Sample& to) {
    return random ? to.admitted - from.admitted : to.serving - from.serving;
  };
  const Sample& first = samples_.front();
  const Sample& last = samples_.back();
  const double span_s = static_cast<double>(last.at_ms - first.at_ms) / 1000.0;
  pace.per_s = static_cast<double>(moved(first, last)) / span_s;
  pace.low_per_s = pace.per_s;
  for (std::size_t i = 0, j = 0; i < samples_.size(); ++i) {
    while (j < samples_.size() && samples_[j].at_ms - samples_[i].at_ms < kSlowStretchMs) ++j;
    if (j == samples_.size()) break;
    const double s = static_cast<double>(samples_[j].at_ms - samples_[i].at_ms) / 1000.0;
    pace.low_per_s =
        std::min(pace.low_per_s, static_cast<double>(moved(samples_[i], samples_[j])) / s);
  }
  return pace;
}

std::optional<Eta> LinePace::estimate(std::uint64_t ahead, bool random,
                                      double assumed_per_s) const {
  Pace pace = observed(random);
  if (pace.per_s <= 0 && assumed_per_s > 0) pace = {assumed_per_s, assumed_per_s};
  if (pace.per_s <= 0) return std::nullopt;
  const double per_s = pace.per_s;
  const double low_per_s = std::clamp(pace.low_per_s, per_s / 2, per_s);

  double p50 = 0;
  double p90 = 0;
  const double n = static_cast<double>(ahead + 1);
  if (random) {
    // Each admission picks one of `ahead + 1` waiting tickets: the wait is about exponential.
    p50 = std::log(2.0) * n / per_s;
    p90 = std::log(10.0) * n / low_per_s;
  } else {
    p50 = n / per_s;
    p90 = std::max(n / low_per_s, p50 * 1.1);
  }
  return Eta{static_cast<std::int64_t>(std::ceil(p50)), static_cast<std::int64_t>(std::ceil(p90))};
}

}  // namespace waitroom::core
