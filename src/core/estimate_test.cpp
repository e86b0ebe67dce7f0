// The estimate's promises (docs/admission.md, "Estimates"): the median is the median, p90 is a
// 90th percentile rather than a safe bound, and the configured pace stands in until the line's
// own pace has been watched for a while.
#include "core/estimate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace waitroom::core {
namespace {

constexpr std::int64_t kT0Ms = 1'700'000'000'000;

// A line passing `per_s` positions a second, sampled every second for `seconds`.
LinePace steady(double per_s, int seconds) {
  LinePace pace;
  for (int s = 0; s <= seconds; ++s)
    pace.record(kT0Ms + s * 1000, static_cast<std::uint64_t>(per_s * s), 0, true);
  return pace;
}

TEST(LinePace, AClockworkLineGetsANarrowRange) {
  const auto eta = steady(10, 60).estimate(299, false, 0);
  ASSERT_TRUE(eta);
  EXPECT_EQ(eta->p50_s, 30);
  EXPECT_EQ(eta->p90_s, 30);  // not 1.1 x p50: nobody in this line waits longer
  EXPECT_FALSE(eta->configured_pace);
}

TEST(LinePace, TheConfiguredPaceStandsInUntilThePaceIsWatchedLongEnough) {
  LinePace pace = steady(3, 6);  // six seconds seen: a pace, but not yet a trustworthy one
  auto eta = pace.estimate(99, false, 2.0);
  ASSERT_TRUE(eta);
  EXPECT_EQ(eta->p50_s, 50);
  EXPECT_TRUE(eta->configured_pace);
  eta = steady(3, 12).estimate(99, false, 2.0);
  ASSERT_TRUE(eta);
  EXPECT_EQ(eta->p50_s, 34);
  EXPECT_FALSE(eta->configured_pace);
  // Without a configured pace, five seconds are enough to say something.
  EXPECT_TRUE(steady(3, 6).estimate(99, false, 0));
}

TEST(LinePace, P90CoversNineInTenOfAnUnevenLine) {
  // Two admissions a second; a quarter of the places belong to visitors who left, so the
  // serving counter skips them: the wait for n places is uncertain.
  std::mt19937_64 rng(17);
  std::bernoulli_distribution gone(0.25);
  std::vector<double> passed_at;  // time each position is passed, in s
  double t = 0;
  for (int p = 0; p < 200'000; ++p) {
    if (!gone(rng)) t += 0.5;
    passed_at.push_back(t);
  }
  auto serving_at = [&](double s) {
    return static_cast<std::uint64_t>(std::upper_bound(passed_at.begin(), passed_at.end(), s) -
                                      passed_at.begin());
  };
  int covered = 0;
  int asked = 0;
  // Each visitor watches the line for a minute, then waits: about 500 visitors whose minutes
  // and waits do not overlap, so they are independent.
  for (int start = 0; start + 400 < 70'000; start += 150) {
    LinePace pace;
    for (int s = 0; s <= 60; ++s) pace.record(kT0Ms + s * 1000, serving_at(start + s), 0, true);
    const std::uint64_t serving = serving_at(start + 60);
    const std::uint64_t ahead = 200;
    const auto eta = pace.estimate(ahead, false, 0);
    ASSERT_TRUE(eta);
    const double actual = passed_at[serving + ahead] - (start + 60);
    covered += actual <= static_cast<double>(eta->p90_s) ? 1 : 0;
    ++asked;
  }
  const double share = static_cast<double>(covered) / asked;
  EXPECT_GE(share, 0.85);
  EXPECT_LE(share, 0.95);
}

}  // namespace
}  // namespace waitroom::core
