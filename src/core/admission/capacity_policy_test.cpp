#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

AdmissionPolicy capacity(std::int64_t total_active, std::int64_t new_per_minute) {
  AdmissionPolicy a = settings_for(AdmissionMode::capacity);
  a.total_active = total_active;
  a.new_per_minute = new_per_minute;
  return a;
}

TEST(CapacityPolicy, LetsInOnArrivalOnlyBelowBothThresholdsWithNobodyWaiting) {
  AdmitterPtr policy = make_capacity_policy(capacity(10, 3));
  FakeRoomFacts room;
  EXPECT_TRUE(policy->admits_on_arrival(1'000, 1, room));
  EXPECT_EQ(room.since_asked(), 1'000 - 60);  // new admissions are counted over the last minute
  room.waiting_count = 1;                     // a newcomer must not pass those in line
  EXPECT_FALSE(policy->admits_on_arrival(1'000, 1, room));
  room.waiting_count = 0;
  room.recent_admissions = 3;
  EXPECT_FALSE(policy->admits_on_arrival(1'000, 1, room));
  room.recent_admissions = 0;
  room.held_count = 10;
  EXPECT_FALSE(policy->admits_on_arrival(1'000, 1, room));
}

TEST(CapacityPolicy, NotOnArrivalOutsideItsWindow) {
  AdmissionPolicy a = capacity(10, 3);
  a.start_s = 2'000;
  AdmitterPtr policy = make_capacity_policy(a);
  FakeRoomFacts room;
  EXPECT_FALSE(policy->admits_on_arrival(1'000, 1, room));
  EXPECT_TRUE(policy->admits_on_arrival(2'000, 1, room));
  EXPECT_TRUE(policy->pace(1'000).halted);
}

TEST(CapacityPolicy, AStepTakesTheSmallerRoomOfTheTwoThresholds) {
  AdmitterPtr policy = make_capacity_policy(capacity(10, 4));
  FakeRoomFacts room;
  RateBucket bucket;
  room.held_count = 7;
  room.recent_admissions = 1;
  EXPECT_EQ(policy->admits_at_step({5'000'500, 0, bucket}, room), 3u);  // 10 - 7 places
  EXPECT_EQ(room.since_asked(), 5'000 - 60);
  room.held_count = 2;
  EXPECT_EQ(policy->admits_at_step({5'000'500, 2, bucket}, room), 3u);  // 4 - 1 this minute
  room.recent_admissions = 6;
  EXPECT_EQ(policy->admits_at_step({5'000'500, 0, bucket}, room), 0u);
}

}  // namespace
}  // namespace waitroom::core
