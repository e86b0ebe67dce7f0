// How long admitted visitors waited, and why a line is not moving (core/room.hpp).
#include <gtest/gtest.h>

#include "core/room.hpp"

namespace waitroom::core {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000;  // seconds, a multiple of 10

std::optional<LineReason> reason(Room& room, std::int64_t now_s) {
  return room.line_status(now_s).stopped;
}

TEST(RoomWaits, EachAdmissionRecordsItsWaitFromJoinToAdmission) {
  Room room("r", RoomSettings{});
  ASSERT_TRUE(room.enqueue(kT0, 1));
  ASSERT_TRUE(room.enqueue(kT0 + 20, 1));
  ASSERT_TRUE(room.enqueue(kT0 + 40, 2));
  ASSERT_TRUE(room.advance_by(3, kT0 + 100));  // waited 100, 80, 60
  ASSERT_TRUE(room.advance_by(1, kT0 + 200));  // waited 160
  const WaitHistogram all = room.waits().last(kT0 + 200, 600);
  EXPECT_EQ(all.count(), 4u);
  EXPECT_NEAR(static_cast<double>(*all.percentile(0.5)), 80, 80 * 0.032);
  EXPECT_NEAR(static_cast<double>(*all.percentile(0.95)), 160, 160 * 0.032);
  EXPECT_EQ(room.waits().between(kT0 + 100, kT0 + 110).count(), 3u);

  // Replaying the logged steps gives a copy the same waits (a restart, a Redis node).
  Room copy("r", RoomSettings{});
  ASSERT_TRUE(copy.enqueue(kT0, 1));
  ASSERT_TRUE(copy.enqueue(kT0 + 20, 1));
  ASSERT_TRUE(copy.enqueue(kT0 + 40, 2));
  Admissions first;
  first.at_s = kT0 + 100;
  first.serving_to = 3;
  copy.apply(first);
  EXPECT_EQ(copy.waits().last(kT0 + 100, 600), room.waits().last(kT0 + 100, 600));
}

TEST(RoomWaits, LetInOnArrivalWaitedNothing) {
  RoomSettings s;
  s.queueing = Queueing::passthrough;
  Room room("r", s);
  ASSERT_TRUE(room.enqueue(kT0, 3, kAdmittedOnArrival));
  EXPECT_EQ(room.waits().last(kT0, 600).percentile(0.95), 0);
  EXPECT_EQ(room.waits().last(kT0, 600).count(), 3u);
}

TEST(RoomLine, SaysWhyTheLineIsNotMovingInTheStepsOrder) {
  RoomSettings s;
  Room room("r", s);
  EXPECT_EQ(reason(room, kT0), LineReason::nobody_waiting);
  ASSERT_TRUE(room.enqueue(kT0, 2, kTracksPresence));
  EXPECT_EQ(reason(room, kT0), LineReason::manual);
  s.state = RoomState::paused;
  room.set_settings(s);
  EXPECT_EQ(reason(room, kT0), LineReason::paused);
  s.state = RoomState::queue_all;
  room.set_settings(s);
  EXPECT_EQ(reason(room, kT0), LineReason::queue_all);
  s.state = RoomState::open;
  s.admission.mode = AdmissionMode::rate;
  s.admission.rate_per_minute = 60;
  room.set_settings(s);
  EXPECT_TRUE(room.line_status(kT0).moving());
  s.admission.start_s = kT0 + 60;
  room.set_settings(s);
  EXPECT_EQ(reason(room, kT0), LineReason::not_started);
  s.admission.start_s.reset();
  s.admission.end_s = kT0;
  room.set_settings(s);
  EXPECT_EQ(reason(room, kT0), LineReason::closed);
  s.admission.end_s.reset();
  s.admission.max_active = 1;  // rate under a ceiling
  room.set_settings(s);
  ASSERT_TRUE(room.advance_by(1, kT0));  // one eligible ticket holds the one place
  EXPECT_EQ(reason(room, kT0), LineReason::max_active);
  s.admission.mode = AdmissionMode::max_active;
  s.admission.max_active = 2;
  room.set_settings(s);
  EXPECT_TRUE(room.line_status(kT0).moving());
  s.admission = AdmissionPolicy{};
  s.admission.mode = AdmissionMode::capacity;
  s.admission.total_active = 10;
  s.admission.new_per_minute = 1;  // used by the admission above
  room.set_settings(s);
  EXPECT_EQ(reason(room, kT0), LineReason::capacity);
  EXPECT_TRUE(room.line_status(kT0 + 61).moving());
  // Passthrough lets everyone waiting in at the next step, whatever its policy's caps.
  s.queueing = Queueing::passthrough;
  room.set_settings(s);
  EXPECT_TRUE(room.line_status(kT0).moving());
  s.admission.mode = AdmissionMode::manual;
  room.set_settings(s);
  EXPECT_TRUE(room.line_status(kT0).moving());
}

TEST(RoomLine, AnOpenPrequeueHoldsTheLine) {
  RoomSettings s;
  s.admission.mode = AdmissionMode::rate;
  s.admission.rate_per_minute = 60;
  ScheduledEvent e;
  e.prequeue_start_s = kT0 + 10;
  e.start_s = kT0 + 100;
  s.events.push_back(e);
  Room room("r", s);
  room.tick((kT0 + 20) * 1000);  // opens the pre-queue
  ASSERT_TRUE(room.enqueue(kT0 + 20, 1, kTracksPresence));
  EXPECT_EQ(reason(room, kT0 + 20), LineReason::prequeue);
}

TEST(RoomCounters, TicketsExpiredAreTheLeftAndTheUnclaimed) {
  RoomSettings s;
  s.ticket_idle_timeout_s = 30;
  s.claim_timeout_s = 60;
  Room room("r", s);
  ASSERT_TRUE(room.enqueue(kT0, 3, kTracksPresence));
  ASSERT_TRUE(room.advance_by(1, kT0));       // 1 eligible, never claims
  ASSERT_TRUE(room.advance_by(1, kT0 + 40));  // 2 idle by now: passed, left
  room.tick((kT0 + 70) * 1000);               // 1's claim ran out
  const RoomCounters c = room.counters(kT0 + 70);
  EXPECT_EQ(c.tickets_left, 2u);  // 2 passed by the advance, 3 found by the step's sweep
  EXPECT_EQ(c.tickets_unclaimed, 1u);
  EXPECT_EQ(c.tickets_expired, 3u);
}

}  // namespace
}  // namespace waitroom::core
