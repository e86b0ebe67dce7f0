#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

TEST(ManualPolicy, LetsNobodyInByItself) {
  AdmitterPtr manual = make_manual_policy(settings_for(AdmissionMode::manual));
  FakeRoomFacts room;
  RateBucket bucket{600'000, 1'000};
  EXPECT_FALSE(manual->admits_on_arrival(100, 1, room));
  EXPECT_EQ(manual->admits_at_step({2'000, 0, bucket}, room), 0u);
  EXPECT_EQ(bucket.units, 600'000);  // a full bucket means nothing to it
}

TEST(ManualPolicy, GivesBackOwedTurns) {
  AdmitterPtr manual = make_manual_policy(settings_for(AdmissionMode::manual));
  FakeRoomFacts room;
  RateBucket bucket;
  EXPECT_EQ(manual->admits_at_step({2'000, 3, bucket}, room), 3u);
  EXPECT_EQ(room.held_asked, 0);  // no cap to check
}

TEST(ManualPolicy, EstimatesEvenOutsideItsWindow) {
  AdmissionPolicy a = settings_for(AdmissionMode::manual);
  a.start_s = 100;
  a.end_s = 200;
  AdmitterPtr manual = make_manual_policy(a);
  EXPECT_FALSE(manual->window_open(99));
  EXPECT_TRUE(manual->window_open(100));
  EXPECT_FALSE(manual->window_open(200));
  // An operator may advance at any time: the estimate is not switched off, and assumes no pace.
  EXPECT_FALSE(manual->pace(50).halted);
  EXPECT_EQ(manual->pace(50).assumed_per_s, 0.0);
}

}  // namespace
}  // namespace waitroom::core
