#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"
#include "core/admission/policies.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

TEST(ActiveCeiling, LowersTheInnerPolicysStepAndNothingElse) {
  AdmissionPolicy a = settings_for(AdmissionMode::manual);
  a.max_active = 3;
  a.start_s = 100;
  AdmitterPtr capped = with_active_ceiling(make_manual_policy(a), a);
  FakeRoomFacts room;
  RateBucket bucket;
  room.held_count = 1;
  EXPECT_EQ(capped->admits_at_step({200'000, 5, bucket}, room), 2u);  // 5 owed, 2 places
  EXPECT_EQ(capped->admits_at_step({200'000, 1, bucket}, room), 1u);  // never raises it
  EXPECT_FALSE(capped->window_open(99));                              // the window is the settings'
  EXPECT_FALSE(capped->pace(50).halted);  // the estimate is the inner policy's (manual)
}

}  // namespace
}  // namespace waitroom::core
