#include "api/history_range.hpp"

#include <gtest/gtest.h>

namespace waitroom::api {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::int64_t kHour = 3'600'000;

core::Result<HistoryRange> parse(std::string_view query) {
  return parse_history_range(query, kNow, kHour);
}

TEST(HistoryRange, DefaultsToTheSamplesOfTheLastHour) {
  auto r = parse("");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->asked);
  EXPECT_TRUE(r->samples());
  EXPECT_EQ(r->from_ms, kNow - kHour);
  EXPECT_EQ(r->to_ms, kNow);
}

TEST(HistoryRange, MinutesOverAStepFromMillisecondsOrRfc3339) {
  auto r = parse("step=300&from=1699990000000&to=2023-11-14T22:13:20Z");
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_TRUE(r->asked);
  EXPECT_FALSE(r->samples());
  EXPECT_EQ(r->step_s, 300);
  EXPECT_EQ(r->from_ms, 1'699'990'000'000);
  EXPECT_EQ(r->to_ms, kNow);
  auto hour = parse("step=60");  // an hour before `to`
  ASSERT_TRUE(hour);
  EXPECT_EQ(hour->from_ms, kNow - kHour);
  auto week = parse("step=60&from=" + std::to_string(kNow - 7 * 24 * kHour));
  EXPECT_TRUE(week) << "10,080 minutes is the most";
}

TEST(HistoryRange, BadParametersAreBadRequestsNamingThem) {
  const std::pair<std::string, std::string> cases[] = {
      {"step=0", "step"},
      {"step=-60", "step"},
      {"step=45", "step"},
      {"step=sixty", "step"},
      {"step=60&from=yesterday", "from"},
      {"step=60&to=", "to"},
      {"step=60&from=1700000000000&to=1699999999999", "before"},
      {"step=60&from=1700000000000&to=1700000000000", "before"},
      {"step=60&from=" + std::to_string(kNow - 8 * 24 * kHour), "10080"},
      {"from=" + std::to_string(kNow - 2 * kHour), "step=60"},  // samples reach an hour back
  };
  for (const auto& [query, names] : cases) {
    auto r = parse(query);
    ASSERT_FALSE(r) << query;
    EXPECT_EQ(r.error().code, core::ErrorCode::bad_request) << query;
    std::string detail = r.error().detail;
    std::erase(detail, ',');
    EXPECT_NE(detail.find(names), std::string::npos) << query << ": " << r.error().detail;
  }
}

}  // namespace
}  // namespace waitroom::api
