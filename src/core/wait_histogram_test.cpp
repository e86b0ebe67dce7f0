#include "core/wait_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/wait_log.hpp"

namespace waitroom::core {
namespace {

// The nearest-rank percentile of exact values, to compare with the histogram's.
std::int64_t exact_percentile(std::vector<std::int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(rank, 1) - 1];
}

TEST(WaitHistogram, ShortWaitsAreExactLongOnesWithin32Thousandths) {
  for (std::int64_t w = 0; w < 16; ++w)
    EXPECT_EQ(WaitHistogram::value_of(WaitHistogram::bucket_of(w)), w);
  for (std::int64_t w :
       std::vector<std::int64_t>{16, 17, 100, 599, 600, 3'601, 86'400, 1'000'000, 4'294'967'295}) {
    const auto v = static_cast<double>(WaitHistogram::value_of(WaitHistogram::bucket_of(w)));
    EXPECT_NEAR(v, static_cast<double>(w), static_cast<double>(w) * 0.032) << w;
  }
  EXPECT_EQ(WaitHistogram::bucket_of(-5), 0);  // a clock set back waits 0
}

TEST(WaitHistogram, PercentilesAreNearestRank) {
  WaitHistogram h;
  EXPECT_FALSE(h.percentile(0.5));
  for (int i = 1; i <= 10; ++i) h.add(i);  // 1 … 10, exact buckets
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.percentile(0.5), 5);
  EXPECT_EQ(h.percentile(0.95), 10);
  EXPECT_EQ(h.percentile(0.1), 1);
  h.add(0, 90);  // ninety visitors let in at once
  EXPECT_EQ(h.percentile(0.5), 0);
  EXPECT_EQ(h.percentile(0.95), 5);
}

TEST(WaitHistogram, MergingMinutesGivesThePercentilesOfAllTheirWaits) {
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> all;
  WaitHistogram merged;
  for (int minute = 0; minute < 30; ++minute) {
    WaitHistogram h;
    // Each minute its own spread: the step's percentile is not an average of the minutes'.
    std::uniform_int_distribution<std::int64_t> wait(minute * 20, minute * 40 + 30);
    for (int i = 0; i < 50 + minute; ++i) {
      const std::int64_t w = wait(rng);
      h.add(w);
      all.push_back(w);
    }
    merged.merge(h);
  }
  EXPECT_EQ(merged.count(), all.size());
  for (double q : {0.5, 0.95, 0.99}) {
    const auto exact = static_cast<double>(exact_percentile(all, q));
    EXPECT_NEAR(static_cast<double>(*merged.percentile(q)), exact, exact * 0.05) << q;
  }
  // Merging is the same in either order, and with nothing.
  WaitHistogram a, b;
  a.add(3);
  a.add(500, 2);
  b.add(500);
  b.add(20'000);
  WaitHistogram ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  EXPECT_EQ(ab, ba);
  ab.merge(WaitHistogram{});
  EXPECT_EQ(ab, ba);
}

TEST(WaitHistogram, ReadsBackFromItsTextAndRefusesOtherText) {
  WaitHistogram h;
  EXPECT_EQ(h.encode(), "-");
  EXPECT_EQ(WaitHistogram::decode("-"), h);
  h.add(4);
  h.add(300, 7);
  h.add(90'000);
  const std::string text = h.encode();
  EXPECT_EQ(text.find(' '), std::string::npos);
  EXPECT_EQ(WaitHistogram::decode(text), h);
  for (const char* bad :
       {"", "1", "1:", ":1", "1:0", "2:1,1:1", "1:1,1:1", "9999:1", "1:1,", "a:1", "-1:1"})
    EXPECT_FALSE(WaitHistogram::decode(bad)) << bad;
}

TEST(WaitLog, KeepsTheLastElevenMinutesByTenSecondSlots) {
  constexpr std::int64_t t0 = 1'700'000'000;  // a multiple of 10 s
  WaitLog log;
  EXPECT_TRUE(log.last(t0, 600).empty());
  log.add(t0, 30);
  log.add(t0 + 9, 40);
  log.add(t0 + 10, 50);
  log.add(t0 + 300, 60);
  EXPECT_EQ(log.between(t0, t0 + 10).count(), 2u);
  EXPECT_EQ(log.between(t0, t0 + 60).count(), 3u);
  EXPECT_EQ(log.last(t0 + 300, 600).count(), 4u);
  // Slots starting after now - window: at t0 + 599 the slot of t0 (started 599 s ago) is in.
  EXPECT_EQ(log.last(t0 + 599, 600).count(), 4u);
  EXPECT_EQ(log.last(t0 + 600, 600).count(), 2u);
  EXPECT_EQ(log.last(t0 + 899, 600).count(), 1u);
  EXPECT_EQ(log.last(t0 + 900, 600).count(), 0u);
  // A jump beyond the ring leaves only the new wait; older admissions are dropped.
  log.add(t0 + 2000, 70);
  EXPECT_EQ(log.between(t0, t0 + 3000).count(), 1u);
  log.add(t0 + 1000, 80);  // older than the ring now reaches
  EXPECT_EQ(log.between(t0, t0 + 3000).count(), 1u);
  log.add(t0 + 1990, 90);  // late, but inside it
  EXPECT_EQ(log.last(t0 + 2000, 60).count(), 2u);
  log.clear();
  EXPECT_TRUE(log.last(t0 + 2000, 600).empty());
}

}  // namespace
}  // namespace waitroom::core
