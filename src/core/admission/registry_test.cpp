#include "core/admission/registry.hpp"

#include <gtest/gtest.h>

#include "core/admission/fake_room_facts_for_test.hpp"

namespace waitroom::core {
namespace {

using testing::FakeRoomFacts;
using testing::settings_for;

// What each mode answers at one step with 2 places held, 3 owed turns and a full bucket.
std::uint64_t step_of(const AdmissionPolicy& a, Queueing q = Queueing::fifo) {
  FakeRoomFacts room;
  room.held_count = 2;
  RateBucket bucket{4 * kAdmissionUnits, 1'000};
  return make_admitter(a, q)->admits_at_step({1'000, 3, bucket}, room);
}

TEST(AdmitterRegistry, BuildsThePolicyOfEachMode) {
  EXPECT_EQ(step_of(settings_for(AdmissionMode::manual)), 3u);  // owed only
  AdmissionPolicy rate = settings_for(AdmissionMode::rate);
  rate.rate_per_minute = 600;
  EXPECT_EQ(step_of(rate), 4u + 3u);  // bucket plus owed
  rate.max_active = 6;
  EXPECT_EQ(step_of(rate), 4u);  // under the ceiling: 6 - 2
  AdmissionPolicy max_active = settings_for(AdmissionMode::max_active);
  max_active.max_active = 5;
  EXPECT_EQ(step_of(max_active), 3u);
  AdmissionPolicy capacity = settings_for(AdmissionMode::capacity);
  capacity.total_active = 10;
  capacity.new_per_minute = 1;
  EXPECT_EQ(step_of(capacity), 1u);
}

TEST(AdmitterRegistry, PassthroughWrapsAnyMode) {
  AdmissionPolicy max_active = settings_for(AdmissionMode::max_active);
  max_active.max_active = 1;
  EXPECT_EQ(step_of(max_active, Queueing::passthrough), kUnlimited);
  EXPECT_EQ(step_of(settings_for(AdmissionMode::manual), Queueing::random), 3u);
}

}  // namespace
}  // namespace waitroom::core
