#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

AdmitterPtr max_active(std::int64_t cap) {
  AdmissionPolicy a = settings_for(AdmissionMode::max_active);
  a.max_active = cap;
  return make_max_active_policy(a);
}

TEST(MaxActivePolicy, FillsTheFreePlaces) {
  AdmitterPtr policy = max_active(5);
  FakeRoomFacts room;
  RateBucket bucket;
  room.held_count = 2;
  EXPECT_EQ(policy->admits_at_step({1'000, 0, bucket}, room), 3u);
  room.held_count = 5;
  EXPECT_EQ(policy->admits_at_step({1'000, 0, bucket}, room), 0u);
  room.held_count = 9;  // over the cap (it was lowered): nobody, not a wrapped-around count
  EXPECT_EQ(policy->admits_at_step({1'000, 0, bucket}, room), 0u);
}

TEST(MaxActivePolicy, OwedTurnsDoNotPassTheCap) {
  AdmitterPtr policy = max_active(5);
  FakeRoomFacts room;
  RateBucket bucket;
  room.held_count = 4;
  EXPECT_EQ(policy->admits_at_step({1'000, 3, bucket}, room), 1u);
}

TEST(MaxActivePolicy, NeitherLetsInOnArrivalNorAssumesAPace) {
  AdmissionPolicy a = settings_for(AdmissionMode::max_active);
  a.max_active = 5;
  a.end_s = 100;
  AdmitterPtr policy = make_max_active_policy(a);
  FakeRoomFacts room;
  EXPECT_FALSE(policy->admits_on_arrival(50, 1, room));
  EXPECT_EQ(policy->pace(50).assumed_per_s, 0.0);
  EXPECT_FALSE(policy->pace(50).halted);
  EXPECT_TRUE(policy->pace(100).halted);
}

}  // namespace
}  // namespace waitroom::core
