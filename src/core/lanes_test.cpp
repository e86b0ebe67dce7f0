// Lane rules (core/lanes.hpp): validation, the shares in force, and the picker's fairness.
#include "core/lanes.hpp"

#include <gtest/gtest.h>

#include <array>

namespace waitroom::core {
namespace {

Lanes vip_members() { return {{"vip", 0.3}, {"members", 0.2}}; }

LaneFlags all_busy() {
  LaneFlags busy{};
  busy.fill(true);
  return busy;
}

TEST(Lanes, Validation) {
  EXPECT_TRUE(validate(vip_members()));
  EXPECT_FALSE(validate(Lanes{{"default", 0.1}}));
  EXPECT_FALSE(validate(Lanes{{"a b", 0.1}}));
  EXPECT_FALSE(validate(Lanes{{"vip", 0.1}, {"vip", 0.1}}));
  EXPECT_FALSE(validate(Lanes{{"vip", 0}}));
  EXPECT_FALSE(validate(Lanes{{"vip", 1}}));
  EXPECT_FALSE(validate(Lanes{{"vip", 0.6}, {"members", 0.4}}));  // nothing left for the default
  Lanes nine;
  for (int i = 0; i < 9; ++i) nine.push_back({"l" + std::to_string(i), 0.01});
  EXPECT_FALSE(validate(nine));
  const auto error = validate(Lanes{{"vip", 0.2}, {"vip", 0.1}}).error();
  EXPECT_NE(error.detail.find("lanes[1].name"), std::string::npos) << error.detail;
}

TEST(Lanes, NumbersAndNames) {
  const Lanes lanes = vip_members();
  EXPECT_EQ(lane_number(lanes, "default"), kDefaultLane);
  EXPECT_EQ(lane_number(lanes, "vip"), 1);
  EXPECT_EQ(lane_number(lanes, "members"), 2);
  EXPECT_FALSE(lane_number(lanes, "staff"));
  EXPECT_EQ(lane_name(lanes, 2), "members");
  EXPECT_EQ(lane_name(lanes, 0), "default");
}

TEST(Lanes, UnusedSharesFlowToTheNextLaneThenTheDefault) {
  const Lanes lanes = vip_members();
  LaneShares s = effective_shares(lanes, all_busy());
  EXPECT_DOUBLE_EQ(s[1], 0.3);
  EXPECT_DOUBLE_EQ(s[2], 0.2);
  EXPECT_NEAR(s[0], 0.5, 1e-12);

  LaneFlags busy = all_busy();
  busy[1] = false;  // nobody in vip: its share goes to members
  s = effective_shares(lanes, busy);
  EXPECT_DOUBLE_EQ(s[1], 0);
  EXPECT_DOUBLE_EQ(s[2], 0.5);
  EXPECT_NEAR(s[0], 0.5, 1e-12);

  busy = all_busy();
  busy[2] = false;  // nobody in members, the last lane: its share goes to the default lane
  s = effective_shares(lanes, busy);
  EXPECT_DOUBLE_EQ(s[1], 0.3);
  EXPECT_NEAR(s[0], 0.7, 1e-12);

  busy = LaneFlags{};
  busy[1] = true;  // only vip waits: it gets everything
  s = effective_shares(lanes, busy);
  EXPECT_NEAR(s[1], 1.0, 1e-12);
}

TEST(Lanes, ThePickerKeepsEveryShareWithinOneAdmission) {
  const Lanes lanes = vip_members();
  LanePicker picker;
  std::array<int, kMaxLanes + 1> got{};
  for (int n = 1; n <= 10'000; ++n) {
    ++got[picker.pick(lanes, all_busy())];
    EXPECT_LE(std::abs(got[1] - 0.3 * n), 1.0) << n;
    EXPECT_LE(std::abs(got[2] - 0.2 * n), 1.0) << n;
    EXPECT_LE(std::abs(got[0] - 0.5 * n), 1.0) << n;
  }
}

TEST(Lanes, AWaitCountsInTheWholeLinesTerms) {
  EXPECT_EQ(in_whole_line(30, 0.3), 100u);
  EXPECT_EQ(in_whole_line(1, 0.3), 4u);  // rounded up: never shorter than it will be
  EXPECT_EQ(in_whole_line(7, 1.0), 7u);
}

}  // namespace
}  // namespace waitroom::core
