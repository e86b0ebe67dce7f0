#include "store/health_board.hpp"

#include <gtest/gtest.h>

namespace waitroom::store {
namespace {

// Twenty requests of the given latency, `failed` of them failed, at the clock's second.
void requests(HealthBoard& board, std::int64_t ms, int failed = 0) {
  for (int i = 0; i < 20; ++i) board.observe("r", ms, i < failed);
}

TEST(HealthBoard, TheProxysWindowIsKnownFromTenRequestsAndForgetsAfterFiveSeconds) {
  core::ManualClock clock;
  HealthBoard board(clock);
  for (int i = 0; i < 9; ++i) board.observe("r", 100, false);
  EXPECT_FALSE(board.reading("r").known());
  board.observe("r", 100, true);
  const core::HealthReading r = board.reading("r");
  ASSERT_TRUE(r.p95_ms);
  EXPECT_NEAR(*r.p95_ms, 100, 4);
  EXPECT_DOUBLE_EQ(*r.error_ratio, 0.1);
  EXPECT_EQ(r.samples, 10u);
  clock.advance_ms(4'000);
  EXPECT_TRUE(board.reading("r").known());
  clock.advance_ms(1'000);
  EXPECT_FALSE(board.reading("r").known());
}

TEST(HealthBoard, APostCountsUntilItsMaxAgeAndTheWorseOfTheTwoIsTaken) {
  core::ManualClock clock;
  HealthBoard board(clock);
  requests(board, 300);
  board.post("r", core::HealthReading{std::nullopt, 200.0, 0.05, 0}, 3);
  HealthReport report = board.report("r");
  EXPECT_TRUE(report.posted_fresh);
  EXPECT_NEAR(*report.combined.p95_ms, 300, 10);         // the proxy's is worse
  EXPECT_DOUBLE_EQ(*report.combined.error_ratio, 0.05);  // the post's is worse
  clock.advance_ms(3'001);
  requests(board, 300);
  report = board.report("r");
  EXPECT_FALSE(report.posted_fresh);
  ASSERT_TRUE(report.posted);  // still shown, as stale
  EXPECT_DOUBLE_EQ(*report.combined.error_ratio, 0.0);
}

TEST(HealthBoard, NodesShareTheirRequestsAndPostsAndStopCountingWhenSilent) {
  core::ManualClock clock;
  HealthBoard a(clock), b(clock);
  requests(a, 100, 2);
  requests(b, 900);
  b.post("r", core::HealthReading{std::nullopt, std::nullopt, 0.5, 0}, 10);
  for (const SharedHealth& part : b.shareable()) a.heard("node-b", part.room, part.text);
  HealthReport report = a.report("r");
  EXPECT_EQ(report.nodes, 2u);
  EXPECT_EQ(report.proxy.samples, 40u);  // both windows merged: the p95 of all 40
  EXPECT_NEAR(*report.proxy.p95_ms, 900, 30);
  EXPECT_DOUBLE_EQ(*report.proxy.error_ratio, 0.05);
  EXPECT_DOUBLE_EQ(*report.combined.error_ratio, 0.5);  // b's post
  EXPECT_TRUE(report.posted_fresh);
  a.heard("node-c", "r", "garbage");  // ignored
  a.heard("node-c", "r", "5:1 2 -");  // more failed than requests: ignored
  EXPECT_EQ(a.report("r").nodes, 2u);
  clock.advance_ms(kSharedFreshMs + 1);
  requests(a, 100);
  EXPECT_EQ(a.report("r").nodes, 1u);
  EXPECT_EQ(a.report("r").proxy.samples, 40u);  // a's own two seconds
}

}  // namespace
}  // namespace waitroom::store
