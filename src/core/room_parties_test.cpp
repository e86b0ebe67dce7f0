// Party tickets in a room (core/room.hpp): a ticket for several seats counts them against the
// policy's caps and pace, waits at the head until a step has room for all of it, and keeps its
// size through a snapshot.
#include <gtest/gtest.h>

#include "core/room.hpp"
#include "core/room_image.hpp"
#include "testing/room_steps.hpp"

namespace waitroom::core {
namespace {

using testing::kStartMs;
using testing::kStepMs;

RoomSettings party_room(AdmissionPolicy a) {
  RoomSettings s;
  s.admission = a;
  s.max_party_size = 4;
  s.ticket_idle_timeout_s = 0;
  s.claim_timeout_s = 0;
  return s;
}

AdmissionPolicy max_active(std::int64_t cap) {
  AdmissionPolicy a;
  a.mode = AdmissionMode::max_active;
  a.max_active = cap;
  return a;
}

Session active_until(std::int64_t expires_at_s) {
  Session s;
  s.pass = "p";
  s.issued_at_s = kStartMs / 1000;
  s.expires_at_s = expires_at_s;
  return s;
}

TEST(RoomParties, AMaxActiveCapCountsSeatsAndNobodyPassesAWaitingParty) {
  Room room("r", party_room(max_active(5)));
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_EQ(room.enqueue(now_s, 1, 0, kDefaultLane, 3).value(), 1u);
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 1));  // 2
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 4));  // 3
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 1));  // 4
  std::int64_t t = kStartMs + kStepMs;
  EXPECT_EQ(room.tick(t).admitted, (std::vector<std::uint64_t>{1, 2}));  // 3 + 1 seats of 5
  // The party of 4 does not fit in the one seat left, and the single behind it waits too.
  EXPECT_TRUE(room.tick(t += kStepMs).admitted.empty());
  EXPECT_EQ(room.ticket(4, t / 1000).status, TicketStatus::waiting);
  // The single's session ends: two seats free, still not four.
  room.add_session(2, active_until(now_s + 600));
  ASSERT_TRUE(room.end_session(2, TicketStatus::completed, now_s));
  EXPECT_TRUE(room.tick(t += kStepMs).admitted.empty());
  // The party of 3's ends: five free, the party of 4 and the single behind it go in.
  room.add_session(1, active_until(now_s + 600));
  ASSERT_TRUE(room.end_session(1, TicketStatus::completed, now_s));
  EXPECT_EQ(room.tick(t += kStepMs).admitted, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(room.line_status(t / 1000).stopped, LineReason::nobody_waiting);
}

TEST(RoomParties, ARateCountsSeatsAndSavesUpForAParty) {
  RoomSettings s = party_room(testing::rate(60));  // one seat a second
  Room room("r", s);
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 4));
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 1));
  std::int64_t t = kStartMs;
  room.tick(t);
  std::vector<std::int64_t> admitted_at;
  for (int i = 0; i < 80; ++i) {
    t += kStepMs;
    for (std::size_t n = room.tick(t).admitted.size(); n > 0; --n)
      admitted_at.push_back(t - kStartMs);
  }
  // Four seconds for the party of four (a bucket of two seconds alone would never hold it), then
  // a second for the single.
  ASSERT_EQ(admitted_at.size(), 2u);
  EXPECT_NEAR(static_cast<double>(admitted_at[0]), 4000, 200);
  EXPECT_NEAR(static_cast<double>(admitted_at[1]), 5000, 200);
}

// In random queueing too: a party drawn when it does not fit goes first once it does, instead of
// being drawn again among everyone (while singles take each seat that comes free).
TEST(RoomParties, ADrawnPartyThatDoesNotFitGoesInBeforeAnyoneElse) {
  RoomSettings s = party_room(max_active(4));
  s.queueing = Queueing::random;
  for (int trial = 0; trial < 20; ++trial) {
    Room room("r", s);
    const std::int64_t now_s = kStartMs / 1000;
    ASSERT_TRUE(room.enqueue(now_s, 3, 0, kDefaultLane, 1));  // 1-3: in at the first step
    ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 4));  // 4: the party
    ASSERT_TRUE(room.enqueue(now_s, 30, 0, kDefaultLane, 1));
    std::int64_t t = kStartMs;
    std::vector<std::uint64_t> held;
    bool stalled = false;  // a step let nobody in though seats were free: the party was drawn
    for (int i = 0; i < 200 && room.ticket(4, t / 1000).status == TicketStatus::waiting; ++i) {
      // One session ends before each step: one seat comes free at a time.
      if (held.size() == 4 || (!held.empty() && i % 2 == 0)) {
        room.add_session(held.front(), active_until(now_s + 600));
        ASSERT_TRUE(room.end_session(held.front(), TicketStatus::completed, now_s));
        held.erase(held.begin());
      }
      const std::vector<std::uint64_t> in = room.tick(t += kStepMs).admitted;
      for (std::uint64_t p : in) {
        if (stalled) {
          EXPECT_EQ(p, 4u) << "trial " << trial << ": passed the drawn party";
        }
        if (p != 4) held.push_back(p);
      }
      stalled = stalled || (in.empty() && held.size() < 4);
    }
    EXPECT_NE(room.ticket(4, t / 1000).status, TicketStatus::waiting) << "trial " << trial;
  }
}

TEST(RoomParties, CapacityLetsAPartyInOnArrivalOnlyWithRoomForAllOfIt) {
  AdmissionPolicy a;
  a.mode = AdmissionMode::capacity;
  a.total_active = 5;
  a.new_per_minute = 100;
  Room room("r", party_room(a));
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_TRUE(room.admits_on_arrival(now_s, 4).value());
  ASSERT_TRUE(room.enqueue(now_s, 1, kAdmittedOnArrival, kDefaultLane, 4));
  EXPECT_TRUE(room.admits_on_arrival(now_s, 1).value());
  EXPECT_FALSE(room.admits_on_arrival(now_s, 2).value()) << "one seat left of five";
}

TEST(RoomParties, HeldSeatsAndSizesSurviveASnapshot) {
  Room room("r", party_room(max_active(6)));
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 4));
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 2));
  ASSERT_TRUE(room.enqueue(now_s, 1, 0, kDefaultLane, 1));
  std::int64_t t = kStartMs + kStepMs;
  EXPECT_EQ(room.tick(t).admitted.size(), 2u);  // 4 + 2 seats of 6
  room.add_session(1, active_until(now_s + 600));
  Room restored = Room::restore("r", room.settings(), room.image());
  EXPECT_EQ(restored.seats(1), 4u);
  EXPECT_EQ(restored.seats(3), 1u);
  // Six seats held there as here: the single waits in both.
  EXPECT_TRUE(restored.tick(t += kStepMs).admitted.empty());
  ASSERT_TRUE(restored.end_session(1, TicketStatus::completed, now_s));
  EXPECT_EQ(restored.tick(t += kStepMs).admitted, (std::vector<std::uint64_t>{3}));
}

}  // namespace
}  // namespace waitroom::core
