#include "core/admission/adaptive_controller.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <vector>

namespace waitroom::core {
namespace {

AdmissionPolicy controlled(std::int64_t target_ms, std::optional<std::int64_t> max_active = {}) {
  AdmissionPolicy a;
  a.mode = AdmissionMode::adaptive;
  a.target_p95_ms = target_ms;
  a.max_per_minute = 1200;
  a.max_active = max_active;
  return a;
}

HealthReading p95(double ms) { return HealthReading{std::nullopt, ms, 0.0, 100}; }

TEST(AdaptiveController, SetsNoLimitUntilTheFirstBreachThenTakesItBelowThePlacesHeld) {
  ControllerState state;
  EXPECT_FALSE(decide(controlled(400), p95(300), 50, 1, state, 100));
  EXPECT_FALSE(state.limit);
  auto a = decide(controlled(400), p95(600), 100, 1, state, 101);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->old_limit, std::nullopt);
  EXPECT_EQ(a->new_limit, 85u);
  EXPECT_EQ(a->reason, AdjustReason::latency);
  EXPECT_EQ(a->held, 100u);
  EXPECT_EQ(a->inputs, p95(600));
  EXPECT_EQ(state.limit, 85u);
}

TEST(AdaptiveController, DecidesAtMostOnceASecondAndWaitsForTheSiteToSettle) {
  ControllerState state;
  ASSERT_TRUE(decide(controlled(400), p95(600), 100, 1, state, 10));
  EXPECT_FALSE(decide(controlled(400), p95(600), 100, 1, state, 10));  // the same second
  EXPECT_FALSE(decide(controlled(400), p95(600), 85, 1, state, 11));   // settling
  EXPECT_FALSE(decide(controlled(400), p95(100), 85, 1, state, 14));   // no growth either
  // Settled, but the load has not come down to the limit yet: the last cut is still showing.
  EXPECT_FALSE(decide(controlled(400), p95(600), 90, 1, state, 15));
  auto again = decide(controlled(400), p95(600), 85, 1, state, 16);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->new_limit, 72u);  // floor(85 × 0.85)
}

TEST(AdaptiveController, ErrorsAboveTheirLimitAreABreachEvenWhenFast) {
  ControllerState state;
  auto a = decide(controlled(400), HealthReading{std::nullopt, 100.0, 0.05, 100}, 40, 1, state, 5);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->reason, AdjustReason::errors);
  EXPECT_EQ(a->new_limit, 34u);
}

TEST(AdaptiveController, UnknownSignalsAndTheBandHoldTheLimit) {
  ControllerState state;
  state.limit = 50;
  EXPECT_FALSE(decide(controlled(400), HealthReading{}, 50, 1, state, 10));
  EXPECT_FALSE(decide(controlled(400), p95(400), 50, 1, state, 11));  // in the band
  EXPECT_FALSE(decide(controlled(400), p95(430), 50, 1, state, 12));
  EXPECT_FALSE(decide(controlled(400), p95(370), 50, 1, state, 13));
  EXPECT_EQ(state.limit, 50u);
}

TEST(AdaptiveController, GrowsOnlyWhileTheLimitIsWhatHoldsTheLine) {
  ControllerState state;
  state.limit = 100;
  EXPECT_FALSE(decide(controlled(400), p95(100), 60, 1, state, 10));  // nobody near the limit
  auto a = decide(controlled(400), p95(100), 95, 1, state, 11);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->reason, AdjustReason::healthy);
  EXPECT_EQ(a->new_limit, 103u);  // 3 % with all the band's room below it
  // Nearer the band, a smaller step (at least one place).
  auto near = decide(controlled(400), p95(350), 103, 1, state, 12);
  ASSERT_TRUE(near);
  EXPECT_EQ(near->new_limit, 104u);
}

TEST(AdaptiveController, NeverAboveMaxActiveNorBelowTheLargestParty) {
  ControllerState state;
  state.limit = 100;
  auto down = decide(controlled(400, 60), HealthReading{}, 100, 1, state, 10);
  ASSERT_TRUE(down);  // a lowered max_active brings the limit down, whatever the signals
  EXPECT_EQ(down->reason, AdjustReason::max_active);
  EXPECT_EQ(down->new_limit, 60u);
  EXPECT_FALSE(decide(controlled(400, 60), p95(100), 60, 1, state, 11));  // at the ceiling
  ControllerState small;
  auto a = decide(controlled(400), p95(900), 2, 4, small, 10);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->new_limit, 4u);
}

// A shop whose latency rises with the sessions it holds, and which fails past a knee: the
// controller against it, one simulated second at a time, with a session length's lag between
// an admission and the load it brings (the proxy's 5-second window, as the HTTP tests run it).
struct ShopTrace {
  std::vector<double> p95;
  std::vector<double> errors;
  std::vector<std::uint64_t> limit;
  std::int64_t first_breach = -1;
};

ShopTrace run_shop(const std::vector<std::pair<std::int64_t, double>>& capacity_at,
                   std::int64_t seconds) {
  constexpr double kBaseMs = 100;
  constexpr double kSessionS = 20;
  constexpr double kPerMinute = 1200;
  constexpr std::int64_t kWindowS = 5;
  const AdmissionPolicy policy = controlled(400);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> jitter(0, 0.15);
  std::uniform_real_distribution<double> length(0.5 * kSessionS, 1.5 * kSessionS);
  ControllerState state;
  std::vector<double> sessions;  // when each ends
  std::deque<std::pair<std::vector<double>, double>> window;
  double bucket = 0;
  ShopTrace trace;
  for (std::int64_t t = 0; t < seconds; ++t) {
    double capacity = 0;
    for (const auto& [at, c] : capacity_at)
      if (t >= at) capacity = c;
    std::erase_if(sessions, [&](double end) { return end <= static_cast<double>(t); });
    bucket = std::min(bucket + kPerMinute / 60, 2 * kPerMinute / 60);
    auto admit = static_cast<std::int64_t>(bucket);
    if (state.limit)
      admit = std::min<std::int64_t>(
          admit, std::max<std::int64_t>(0, static_cast<std::int64_t>(*state.limit) -
                                               static_cast<std::int64_t>(sessions.size())));
    bucket -= static_cast<double>(admit);
    for (std::int64_t i = 0; i < admit; ++i)
      sessions.push_back(static_cast<double>(t) + length(rng));
    const double n = static_cast<double>(sessions.size());
    const double latency = kBaseMs * (1 + std::pow(n / capacity, 3));
    const double errors = std::clamp((n - 1.5 * capacity) / capacity, 0.0, 1.0);
    std::vector<double> samples;
    for (std::size_t i = 0; i < std::max<std::size_t>(sessions.size(), 1); ++i)
      samples.push_back(latency * std::exp(jitter(rng)));
    window.emplace_back(std::move(samples), errors);
    if (static_cast<std::int64_t>(window.size()) > kWindowS) window.pop_front();
    std::vector<double> all;
    double error_sum = 0;
    for (const auto& [s, e] : window) {
      all.insert(all.end(), s.begin(), s.end());
      error_sum += e;
    }
    std::sort(all.begin(), all.end());
    const double p = all[static_cast<std::size_t>(0.95 * static_cast<double>(all.size() - 1))];
    const double e = error_sum / static_cast<double>(window.size());
    const HealthReading reading{std::nullopt, p, e, all.size()};
    if (auto a = decide(policy, reading, sessions.size(), 1, state, t + 1);
        a && trace.first_breach < 0 && a->reason != AdjustReason::healthy)
      trace.first_breach = t;
    trace.p95.push_back(p);
    trace.errors.push_back(e);
    trace.limit.push_back(state.limit.value_or(0));
  }
  return trace;
}

// The share of seconds in [from, to) whose p95 is within ±15 % of the 400 ms target.
double share_on_target(const ShopTrace& trace, std::size_t from, std::size_t to) {
  std::size_t in = 0;
  for (std::size_t t = from; t < to; ++t) in += std::abs(trace.p95[t] / 400 - 1) <= 0.15;
  return static_cast<double>(in) / static_cast<double>(to - from);
}

TEST(AdaptiveController, BringsTheShopToItsTargetWithinAMinuteAndHoldsItThere) {
  const ShopTrace trace = run_shop({{0, 100}}, 300);
  ASSERT_GE(trace.first_breach, 0);
  EXPECT_LT(trace.first_breach, 30);
  EXPECT_GE(share_on_target(trace, 60, 300), 0.9);
  for (std::size_t t = static_cast<std::size_t>(trace.first_breach) + 10; t < 300; ++t)
    EXPECT_LE(trace.errors[t], 0.02) << "second " << t;
}

TEST(AdaptiveController, FollowsTheShopsCapacityHalvedAndDoubled) {
  const ShopTrace trace = run_shop({{0, 100}, {120, 50}, {240, 100}}, 360);
  // Halved at 120: back within the band 30 s later, and held there.
  EXPECT_GE(share_on_target(trace, 150, 240), 0.9);
  // Doubled again at 240: the limit grows to use it, and the p95 comes back to the target.
  EXPECT_GT(trace.limit[300], trace.limit[239] * 3 / 2);
  EXPECT_GE(share_on_target(trace, 300, 360), 0.9);
}

}  // namespace
}  // namespace waitroom::core
