// The estimate's promises (docs/admission.md, "Estimates"): the median is the median, p90 is a
// 90th percentile rather than a safe bound, and the configured pace stands in until the line's
// own pace has been watched for a while.
#include "core/estimate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

namespace waitroom::core {
namespace {

constexpr std::int64_t kT0Ms = 1'700'000'000'000;

// A line admitting `per_s` visitors a second, sampled every second for `seconds`; nobody leaves.
LinePace steady(double per_s, int seconds) {
  LinePace pace;
  for (int s = 0; s <= seconds; ++s)
    pace.record(kT0Ms + s * 1000, {static_cast<std::uint64_t>(per_s * s), 0, 1000}, true);
  return pace;
}

// The share of `actual` waits that `p90` covered, for the band checks below.
double share_covered(const std::vector<std::pair<double, std::int64_t>>& waits) {
  const auto covered = std::count_if(waits.begin(), waits.end(), [](const auto& w) {
    return w.first <= static_cast<double>(w.second);
  });
  return static_cast<double>(covered) / static_cast<double>(waits.size());
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
  // Two admissions a second at random moments (a line that waits on sessions to end): the time
  // the next 201 take is uncertain.
  std::mt19937_64 rng(17);
  std::exponential_distribution<double> gap(2.0);
  std::vector<double> admitted_at;  // time of each admission, in s
  for (double t = gap(rng); admitted_at.size() < 800'000; t += gap(rng)) admitted_at.push_back(t);
  auto admitted_by = [&](double s) {
    return static_cast<std::uint64_t>(std::upper_bound(admitted_at.begin(), admitted_at.end(), s) -
                                      admitted_at.begin());
  };
  std::vector<std::pair<double, std::int64_t>> waits;  // (actual, p90_s)
  std::vector<double> errors;                          // of p50_s, relative
  // Each visitor watches the line for a minute, then waits: about 2000 visitors whose minutes
  // and waits do not overlap, so they are independent.
  for (int start = 0; start + 400 < 300'000; start += 150) {
    LinePace pace;
    for (int s = 0; s <= 60; ++s)
      pace.record(kT0Ms + s * 1000, {admitted_by(start + s), 0, 1000}, true);
    const std::uint64_t ahead = 200;
    const auto eta = pace.estimate(ahead, false, 0);
    ASSERT_TRUE(eta);
    const double actual = admitted_at[admitted_by(start + 60) + ahead] - (start + 60);
    waits.emplace_back(actual, eta->p90_s);
    errors.push_back(std::abs(static_cast<double>(eta->p50_s) - actual) / actual);
  }
  std::nth_element(errors.begin(), errors.begin() + errors.size() / 2, errors.end());
  EXPECT_LE(errors[errors.size() / 2], 0.10);
  EXPECT_GE(share_covered(waits), 0.85);
  EXPECT_LE(share_covered(waits), 0.95);
}

TEST(LinePace, PlacesOfVisitorsWhoLeftCostNothing) {
  // A quarter of the line left before the start and was found gone: a visitor with 199 places
  // ahead, 150 of them still waiting, waits for 151 admissions. The pace is admissions, not
  // places passed, so it does not matter how many gone places were passed while it was watched.
  LinePace pace = steady(2, 60);
  const auto eta = pace.estimate(150, false, 0);
  ASSERT_TRUE(eta);
  EXPECT_EQ(eta->p50_s, 76);  // 151 / 2, rounded up
  EXPECT_EQ(eta->p90_s, 76);  // clockwork: nobody in this place waits longer
}

TEST(LinePace, TheDocumentsExampleOfALineWhoseVisitorsLeave) {
  // docs/admission.md, "Estimates": two admissions a second, 300 waiting, 30 found gone in the
  // last minute; 199 waiting ahead.
  LinePace pace;
  for (std::uint64_t s = 0; s <= 60; ++s) pace.record(kT0Ms + s * 1000, {2 * s, s / 2, 300}, true);
  const auto eta = pace.estimate(199, false, 0);
  ASSERT_TRUE(eta);
  EXPECT_EQ(eta->p50_s, 93);  // not the 100 s of 200 admissions: about 15 of them leave
  EXPECT_EQ(eta->p90_s, 95);
}

// Visitors keep leaving while they wait: each waiting visitor leaves in any second with chance
// `leave_per_s`, and is found gone at once. Simulates `lines` lines of `length` visitors with two
// admissions a second, watches each for a minute and then asks for the wait of the one at
// `place`; returns (actual, p90_s) and the relative errors of p50_s.
struct LeavingLines {
  std::vector<std::pair<double, std::int64_t>> waits;
  std::vector<double> errors;
};
LeavingLines simulate_leaving(double leave_per_s, int lines, std::size_t length,
                              std::size_t place) {
  LeavingLines out;
  std::mt19937_64 rng(23);
  std::exponential_distribution<double> stays(leave_per_s);
  for (int line = 0; line < lines; ++line) {
    std::vector<double> leaves_at(length);
    for (double& t : leaves_at) t = stays(rng);
    leaves_at[place] = 1e18;  // the one who asks stays
    std::vector<double> admitted_at(length, 1e18);
    for (std::size_t next = 0, k = 1; next < length; ++k) {  // the k-th admission at k/2 s
      while (next < length && leaves_at[next] <= 0.5 * static_cast<double>(k)) ++next;
      if (next < length) admitted_at[next++] = 0.5 * static_cast<double>(k);
    }
    auto counts_at = [&](double s) {
      LineCounts c;
      for (std::size_t i = 0; i < length; ++i) {
        if (admitted_at[i] <= s)
          ++c.admitted;
        else if (leaves_at[i] <= s)
          ++c.left;
        else
          ++c.waiting;
      }
      return c;
    };
    LinePace pace;
    for (int s = 0; s <= 60; ++s) pace.record(kT0Ms + s * 1000, counts_at(s), true);
    std::uint64_t ahead = 0;
    for (std::size_t i = 0; i < place; ++i) ahead += admitted_at[i] > 60 && leaves_at[i] > 60;
    const auto eta = pace.estimate(ahead, false, 0);
    if (!eta) continue;
    const double actual = admitted_at[place] - 60;
    out.waits.emplace_back(actual, eta->p90_s);
    out.errors.push_back(std::abs(static_cast<double>(eta->p50_s) - actual) / actual);
  }
  return out;
}

TEST(LinePace, VisitorsWhoWillLeaveShortenTheWait) {
  // One in 300 leaves each second: of the ~150 waiting ahead after the first minute, about 17
  // leave before their turn, so the wait is some 69 s rather than the 77 s of 154 admissions.
  LeavingLines seen = simulate_leaving(1.0 / 300, 400, 400, 320);
  ASSERT_GE(seen.waits.size(), 390u);
  std::vector<double> errors = seen.errors;
  std::nth_element(errors.begin(), errors.begin() + errors.size() / 2, errors.end());
  EXPECT_LE(errors[errors.size() / 2], 0.05);
  EXPECT_GE(share_covered(seen.waits), 0.85);
  EXPECT_LE(share_covered(seen.waits), 0.95);
}

}  // namespace
}  // namespace waitroom::core
