#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

TEST(Passthrough, LetsEveryoneInWhateverThePolicy) {
  AdmissionPolicy a = settings_for(AdmissionMode::max_active);
  a.max_active = 1;
  a.start_s = 100;
  AdmitterPtr policy = passthrough(make_max_active_policy(a), a);
  FakeRoomFacts room;
  room.held_count = 50;
  room.waiting_count = 7;
  RateBucket bucket;
  EXPECT_TRUE(policy->admits_on_arrival(10, 1, room));  // at once, even before the window
  EXPECT_EQ(policy->admits_at_step({200'000, 0, bucket}, room), kUnlimited);
  EXPECT_EQ(room.held_asked, 0);  // the cap was not even looked at
  EXPECT_FALSE(policy->window_open(99));
  EXPECT_TRUE(policy->pace(99).halted);  // the estimate is the policy's
}

TEST(Passthrough, KeepsTheInnerRateBucketRunning) {
  AdmissionPolicy a = settings_for(AdmissionMode::rate);
  a.rate_per_minute = 600;
  AdmitterPtr policy = passthrough(make_rate_policy(a), a);
  FakeRoomFacts room;
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(policy->admits_at_step({1'200, 0, bucket}, room), kUnlimited);
  EXPECT_EQ(bucket.units, 2 * kAdmissionUnits);
  policy->took(1, bucket);
  EXPECT_EQ(bucket.units, kAdmissionUnits);
  EXPECT_EQ(policy->pace(0).assumed_per_s, 10.0);
}

}  // namespace
}  // namespace waitroom::core
