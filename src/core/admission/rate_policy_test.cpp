#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

AdmissionPolicy rate(std::int64_t per_minute) {
  AdmissionPolicy a = settings_for(AdmissionMode::rate);
  a.rate_per_minute = per_minute;
  return a;
}

TEST(RatePolicy, FillsItsBucketAtTheRate) {
  AdmitterPtr policy = make_rate_policy(rate(600));  // ten a second: one per 100 ms
  FakeRoomFacts room;
  RateBucket bucket{0, 10'000};
  EXPECT_EQ(policy->admits_at_step({10'050, 0, bucket}, room), 0u);
  EXPECT_EQ(bucket.units, 600 * 50);
  bucket.at_ms = 10'050;
  EXPECT_EQ(policy->admits_at_step({10'100, 0, bucket}, room), 1u);
  EXPECT_EQ(bucket.units, kAdmissionUnits);
}

TEST(RatePolicy, DoesNotFillBeforeTheFirstStepOrWhenTimeStandsStill) {
  AdmitterPtr policy = make_rate_policy(rate(600));
  FakeRoomFacts room;
  RateBucket first{0, 0};
  EXPECT_EQ(policy->admits_at_step({10'000, 0, first}, room), 0u);
  EXPECT_EQ(first.units, 0);
  RateBucket same{kAdmissionUnits / 2, 10'000};
  policy->admits_at_step({10'000, 0, same}, room);
  EXPECT_EQ(same.units, kAdmissionUnits / 2);
}

TEST(RatePolicy, HoldsAtMostTwoSecondsShareAndLetsInOneSecondsShareAndOne) {
  FakeRoomFacts room;
  RateBucket bucket{0, 1'000};
  // After a minute without a step: eleven, not six hundred; twenty wait in the bucket.
  EXPECT_EQ(make_rate_policy(rate(600))->admits_at_step({61'000, 0, bucket}, room), 11u);
  EXPECT_EQ(bucket.units, 20 * kAdmissionUnits);
  // A slow rate still holds one whole admission.
  RateBucket slow{0, 1'000};
  EXPECT_EQ(make_rate_policy(rate(30))->admits_at_step({61'000, 0, slow}, room), 1u);
  EXPECT_EQ(slow.units, kAdmissionUnits);
}

TEST(RatePolicy, NoCalendarSecondCarriesMoreThanItsSharePlusOne) {
  AdmitterPtr policy = make_rate_policy(rate(600));  // ten a second: at most eleven
  FakeRoomFacts room;
  RateBucket bucket{10 * kAdmissionUnits, 5'000};  // a full second saved up by a late step
  room.recent_admissions = 4;
  EXPECT_EQ(policy->admits_at_step({5'000, 0, bucket}, room), 7u);
  EXPECT_EQ(room.since_asked(), 4);  // the admissions of calendar second 5
  room.recent_admissions = 11;
  EXPECT_EQ(policy->admits_at_step({5'000, 2, bucket}, room), 2u);  // owed turns only
  EXPECT_EQ(bucket.units, 10 * kAdmissionUnits);                    // kept for the next second
}

TEST(RatePolicy, OwedTurnsComeOnTopAndTakingDrainsOnlyThePaced) {
  AdmitterPtr policy = make_rate_policy(rate(600));
  FakeRoomFacts room;
  RateBucket bucket{2 * kAdmissionUnits, 1'000};
  EXPECT_EQ(policy->admits_at_step({1'000, 3, bucket}, room), 5u);
  policy->took(1, bucket);
  EXPECT_EQ(bucket.units, kAdmissionUnits);
  policy->took(5, bucket);
  EXPECT_EQ(bucket.units, 0);  // never below empty
}

TEST(RatePolicy, AssumesItsRateForTheEstimateInsideItsWindow) {
  AdmissionPolicy a = rate(120);
  a.start_s = 100;
  a.end_s = 200;
  AdmitterPtr policy = make_rate_policy(a);
  FakeRoomFacts room;
  EXPECT_FALSE(policy->admits_on_arrival(150, 1, room));
  EXPECT_EQ(policy->pace(150).assumed_per_s, 2.0);
  EXPECT_FALSE(policy->pace(150).halted);
  EXPECT_TRUE(policy->pace(99).halted);
  EXPECT_TRUE(policy->pace(200).halted);
}

TEST(RatePolicy, WithMaxActiveRunsUnderThatCeiling) {
  AdmissionPolicy a = rate(600);
  a.max_active = 5;
  AdmitterPtr policy = make_rate_policy(a);
  FakeRoomFacts room;
  room.held_count = 4;
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(policy->admits_at_step({2'000, 0, bucket}, room),
            1u);                                   // ten by the rate, one by the cap
  EXPECT_EQ(bucket.units, 10 * kAdmissionUnits);   // the bucket filled all the same
  EXPECT_EQ(policy->pace(0).assumed_per_s, 10.0);  // the rate still tells the estimate
}

}  // namespace
}  // namespace waitroom::core
