#include "core/estimate.hpp"

#include <algorithm>
#include <cmath>

namespace waitroom::core {

namespace {
constexpr std::int64_t kPaceWindowMs = 60'000;
constexpr std::int64_t kPaceSampleMs = 1'000;
// Less than this observed and the pace is no pace at all.
constexpr std::int64_t kMinObservedSpanMs = 5'000;
// Less than this observed and a policy's configured pace is the better guess: a few seconds of a
// line that skips gone visitors or waits on sessions to end say little (docs/admission.md).
constexpr std::int64_t kTrustedSpanMs = 10'000;
// The stretches over which the spread of the pace is measured.
constexpr std::int64_t kSpreadStretchMs = 10'000;
// The normal distribution's 90th percentile, in standard deviations above the mean.
constexpr double kZ90 = 1.2816;
}  // namespace

void LinePace::record(std::int64_t now_ms, std::uint64_t serving, std::uint64_t admitted,
                      bool telling) {
  // A stretch that says nothing about the line's pace is dropped; its last sample is where the
  // next telling stretch starts from.
  if (!telling) samples_.clear();
  if (!samples_.empty() && now_ms - samples_.back().at_ms < kPaceSampleMs) return;
  samples_.push_back(Sample{now_ms, serving, admitted});
  while (samples_.size() > 1 && now_ms - samples_.front().at_ms > kPaceWindowMs)
    samples_.pop_front();
}

LinePace::Pace LinePace::observed(bool random) const {
  Pace pace;
  if (samples_.empty() || samples_.back().at_ms - samples_.front().at_ms < kMinObservedSpanMs)
    return pace;
  auto moved = [random](const Sample& from, const Sample& to) {
    return static_cast<double>(random ? to.admitted - from.admitted : to.serving - from.serving);
  };
  auto seconds = [](const Sample& from, const Sample& to) {
    return static_cast<double>(to.at_ms - from.at_ms) / 1000.0;
  };
  pace.span_s = seconds(samples_.front(), samples_.back());
  pace.per_s = moved(samples_.front(), samples_.back()) / pace.span_s;
  // The spread: how far each stretch of a few seconds (one starting at every sample) moved from
  // what the mean pace predicts. Not single seconds: a line that admits one visitor every two
  // seconds passes 0, 1, 0, 1 positions in them, which is no spread at all.
  double squares = 0;
  double weight_s = 0;
  for (std::size_t i = 0, j = 0; i < samples_.size(); ++i) {
    while (j < samples_.size() && samples_[j].at_ms - samples_[i].at_ms < kSpreadStretchMs) ++j;
    if (j == samples_.size()) break;
    const double dt = seconds(samples_[i], samples_[j]);
    const double miss = moved(samples_[i], samples_[j]) - pace.per_s * dt;
    squares += miss * miss;
    weight_s += dt;
  }
  pace.spread_per_s = weight_s > 0 ? squares / weight_s : 0;
  return pace;
}

std::optional<Eta> LinePace::estimate(std::uint64_t ahead, bool random,
                                      double assumed_per_s) const {
  Pace pace = observed(random);
  // A line that stood still for a while still gets the configured pace (a rate room waiting on
  // its max_active ceiling), as before there was any pace to watch.
  const bool configured =
      assumed_per_s > 0 && (pace.span_s * 1000 < kTrustedSpanMs || pace.per_s <= 0);
  // The configured pace is exact by design; its spread is what was seen of the line so far.
  if (configured) pace = {assumed_per_s, pace.spread_per_s, 0};
  if (pace.per_s <= 0) return std::nullopt;
  const double mu = pace.per_s;
  const double n = static_cast<double>(ahead + 1);
  double p50 = 0;
  double p90 = 0;
  if (random) {
    // Each admission picks one of `ahead + 1` waiting tickets: the wait is about exponential.
    p50 = std::log(2.0) * n / mu;
    p90 = std::log(10.0) * n / mu;
  } else {
    // Passing n positions at mean pace mu with spread s takes n/mu, give or take
    // sqrt(n s / mu^3) (a counting process's first passage); an observed pace is itself only
    // known to within sqrt(s / span), which moves the whole wait in proportion.
    p50 = n / mu;
    const double passage = n * pace.spread_per_s / (mu * mu * mu);
    const double known =
        pace.span_s > 0 ? p50 * p50 * pace.spread_per_s / (pace.span_s * mu * mu) : 0;
    p90 = p50 + kZ90 * std::sqrt(passage + known);
  }
  // p50 rounds up (never sooner than the median); p90 to the nearest second, as rounding it up
  // too would make it a little more than a 90th percentile.
  const auto p50_s = static_cast<std::int64_t>(std::ceil(p50));
  return Eta{p50_s, std::max(p50_s, static_cast<std::int64_t>(std::lround(p90))), configured};
}

}  // namespace waitroom::core
