#include "core/estimate.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

namespace waitroom::core {

namespace {
constexpr std::int64_t kPaceWindowMs = 60'000;
constexpr std::int64_t kPaceSampleMs = 1'000;
// Less than this observed and the pace is no pace at all.
constexpr std::int64_t kMinObservedSpanMs = 5'000;
// Less than this observed and a policy's configured pace is the better guess: a few seconds of a
// line that waits on sessions to end say little (docs/admission.md).
constexpr std::int64_t kTrustedSpanMs = 10'000;
// The stretches over which the spread of the pace is measured.
constexpr std::int64_t kSpreadStretchMs = 10'000;
// The normal distribution's 90th percentile, in standard deviations above the mean.
constexpr double kZ90 = 1.2816;

// The 90th percentile of Student's t with `dof` degrees of freedom (Cornish-Fisher, within 2%
// from 2 on): how far to reach when the spread is itself measured from few stretches.
double t90(double dof) {
  dof = std::max(dof, 2.0);
  const double z = kZ90;
  const double z3 = z * z * z;
  return z + (z3 + z) / (4 * dof) + (5 * z3 * z * z + 16 * z3 + 3 * z) / (96 * dof * dof);
}
}  // namespace

void LinePace::record(std::int64_t now_ms, const LineCounts& counts, bool telling) {
  // A stretch that says nothing about the line's pace is dropped; its last sample is where the
  // next telling stretch starts from.
  if (!telling) samples_.clear();
  if (!samples_.empty() && now_ms - samples_.back().at_ms < kPaceSampleMs) return;
  samples_.push_back(Sample{now_ms, counts});
  while (samples_.size() > 1 && now_ms - samples_.front().at_ms > kPaceWindowMs)
    samples_.pop_front();
}

LinePace::Pace LinePace::observed() const {
  Pace pace;
  if (samples_.empty() || samples_.back().at_ms - samples_.front().at_ms < kMinObservedSpanMs)
    return pace;
  auto moved = [](const Sample& from, const Sample& to) {
    return static_cast<double>(to.counts.admitted - from.counts.admitted);
  };
  auto seconds = [](const Sample& from, const Sample& to) {
    return static_cast<double>(to.at_ms - from.at_ms) / 1000.0;
  };
  const Sample& first = samples_.front();
  const Sample& last = samples_.back();
  pace.span_s = seconds(first, last);
  pace.per_s = moved(first, last) / pace.span_s;
  // The spread: how far each stretch of a few seconds (one starting at every sample) moved from
  // what the mean pace predicts. Not single seconds: a line that admits one visitor every two
  // seconds admits 0, 1, 0, 1 in them, which is no spread at all.
  double squares = 0;
  double weight_s = 0;
  double waiting = 0;
  for (std::size_t i = 0, j = 0; i < samples_.size(); ++i) {
    waiting += static_cast<double>(samples_[i].counts.waiting);
    while (j < samples_.size() && samples_[j].at_ms - samples_[i].at_ms < kSpreadStretchMs) ++j;
    if (j == samples_.size()) continue;
    const double dt = seconds(samples_[i], samples_[j]);
    const double miss = moved(samples_[i], samples_[j]) - pace.per_s * dt;
    squares += miss * miss;
    weight_s += dt;
  }
  // Each stretch is measured against the mean pace of a span it is part of, which takes
  // stretch/span of its variance away: that share is put back (up to three times, a 15 s span).
  // The spread is known from about span/stretch independent stretches, one used by the mean.
  const double stretch_s = static_cast<double>(kSpreadStretchMs) / 1000.0;
  if (weight_s > 0)
    pace.spread_per_s = squares / weight_s / std::max(1.0 / 3, 1 - stretch_s / pace.span_s);
  pace.spread_dof = pace.span_s / stretch_s - 1;
  // Who left: found gone over the minute, per visitor waiting on average.
  waiting /= static_cast<double>(samples_.size());
  if (last.counts.left > first.counts.left && waiting > 0) {
    pace.departures = static_cast<double>(last.counts.left - first.counts.left);
    pace.leave_per_s = pace.departures / (waiting * pace.span_s);
  }
  return pace;
}

// The wait's median and 90th percentile in line order, for a visitor with `n - 1` waiting ahead.
// The waiting ahead shrink by `mu` admissions a second and by the share `d` of them who leave:
// dW/dt = -mu - d W, so the turn comes after ln(g) / d, g = 1 + d n / mu (n / mu when nobody
// leaves).
std::pair<double, double> LinePace::in_line(double n, const Pace& pace) {
  const double mu = pace.per_s;
  const double s = pace.spread_per_s;
  const double d = pace.leave_per_s;
  const double g = 1 + d * n / mu;
  const double wait = d > 0 ? std::log(g) / d : n / mu;
  // Taking mu*wait admissions at mean pace mu with spread s takes wait, give or take
  // sqrt(wait s / mu^2) (a counting process's first passage); an observed pace is itself only
  // known to within sqrt(s / span), which moves the whole wait in proportion.
  const double passage = wait * s / (mu * mu);
  const double known = pace.span_s > 0 ? wait * wait * s / (pace.span_s * mu * mu) : 0;
  // Who of those ahead leaves is chance: each departure is one admission less to wait for, and
  // the fewer ahead, the fewer leave (the variance of dW/dt = -mu - d W + noise at the turn,
  // d n^2 / (2 mu g^2) admissions^2). And d is known from `departures` seen: the wait moves by
  // dwait/dd * d / sqrt(departures).
  const double stay = d * n * n / (2 * mu * mu * mu * g * g);
  const double dwait = n / (mu * g) - wait;
  const double share = pace.departures > 0 ? dwait * dwait / pace.departures : 0;
  // 90th percentiles: Student's t for the part that stands on the measured spread.
  const double t = s > 0 ? t90(pace.spread_dof) : kZ90;
  return {wait, wait + std::sqrt(t * t * (passage + known) + kZ90 * kZ90 * (stay + share))};
}

std::optional<Eta> LinePace::estimate(std::uint64_t ahead, bool random,
                                      double assumed_per_s) const {
  Pace pace = observed();
  // A line that stood still for a while still gets the configured pace (a rate room waiting on
  // its max_active ceiling), as before there was any pace to watch.
  const bool configured =
      assumed_per_s > 0 && (pace.span_s * 1000 < kTrustedSpanMs || pace.per_s <= 0);
  // The configured pace is exact by design; its spread and who leaves are what was seen of the
  // line so far.
  if (configured) {
    pace.per_s = assumed_per_s;
    pace.span_s = 0;
  }
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
    std::tie(p50, p90) = in_line(n, pace);
  }
  // p50 rounds up (never sooner than the median); p90 to the nearest second, as rounding it up
  // too would make it a little more than a 90th percentile.
  const auto p50_s = static_cast<std::int64_t>(std::ceil(p50));
  return Eta{p50_s, std::max(p50_s, static_cast<std::int64_t>(std::lround(p90))), configured};
}

}  // namespace waitroom::core
