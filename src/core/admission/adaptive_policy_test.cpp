#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

AdmissionPolicy adaptive_paced(std::int64_t max_per_minute) {
  AdmissionPolicy a = settings_for(AdmissionMode::adaptive);
  a.target_p95_ms = 400;
  a.max_per_minute = max_per_minute;
  return a;
}

TEST(AdaptivePolicy, PacesAtItsCeilingUntilTheControllerSetsALimit) {
  AdmitterPtr policy = make_adaptive_policy(adaptive_paced(600));
  FakeRoomFacts room;
  room.held_count = 1'000;
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(policy->admits_at_step({2'000, 0, bucket}, room), 10u);  // one second at 600/min
  EXPECT_EQ(policy->holds_line(2, room), std::nullopt);
  EXPECT_DOUBLE_EQ(policy->pace(2).assumed_per_s, 10.0);
}

TEST(AdaptivePolicy, AdmitsOnlyIntoTheLimitsFreePlaces) {
  AdmitterPtr policy = make_adaptive_policy(adaptive_paced(600));
  FakeRoomFacts room;
  room.limit = 50;
  room.held_count = 47;
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(policy->admits_at_step({2'000, 0, bucket}, room), 3u);
  room.held_count = 50;
  EXPECT_EQ(policy->admits_at_step({2'100, 0, bucket}, room), 0u);
  EXPECT_EQ(policy->holds_line(2, room), LineReason::site_health);
}

TEST(AdaptivePolicy, MaxActiveStaysTheCeilingWhateverTheLimit) {
  AdmissionPolicy a = adaptive_paced(600);
  a.max_active = 40;
  AdmitterPtr policy = make_adaptive_policy(a);
  FakeRoomFacts room;
  room.limit = 80;
  room.held_count = 38;
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(policy->admits_at_step({2'000, 0, bucket}, room), 2u);
  room.held_count = 40;
  EXPECT_EQ(policy->holds_line(2, room), LineReason::max_active);
}

TEST(AdaptivePolicy, TheFloorAdmitsPastTheLimitButNotPastMaxActive) {
  AdmissionPolicy a = adaptive_paced(600);
  a.min_per_minute = 60;  // one a second
  a.max_active = 100;
  AdmitterPtr policy = make_adaptive_policy(a);
  FakeRoomFacts room;
  room.limit = 50;
  room.held_count = 70;
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(policy->admits_at_step({2'000, 0, bucket}, room), 1u);
  policy->took(1, bucket);
  EXPECT_EQ(bucket.floor_units, 0);
  EXPECT_EQ(policy->holds_line(2, room), std::nullopt);  // it moves, at the floor's pace
  room.held_count = 100;
  bucket.at_ms = 2'000;
  EXPECT_EQ(policy->admits_at_step({3'000, 0, bucket}, room), 0u);
}

TEST(RatePolicy, CompensatedNoShowsRaiseThePace) {
  AdmissionPolicy a = settings_for(AdmissionMode::rate);
  a.rate_per_minute = 600;
  a.compensate_no_shows = true;
  FakeRoomFacts room;
  room.no_shows = 0.2;  // one in five never claims: 600 / 0.8 = 750 a minute
  RateBucket bucket{0, 1'000};
  EXPECT_EQ(make_rate_policy(a)->admits_at_step({2'000, 0, bucket}, room), 12u);
  room.no_shows = 0.9;  // at most doubled
  RateBucket capped{0, 1'000};
  EXPECT_EQ(make_rate_policy(a)->admits_at_step({2'000, 0, capped}, room), 20u);
  a.compensate_no_shows = false;
  RateBucket plain{0, 1'000};
  EXPECT_EQ(make_rate_policy(a)->admits_at_step({2'000, 0, plain}, room), 10u);
}

}  // namespace
}  // namespace waitroom::core
