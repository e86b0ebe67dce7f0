// Priority lanes in a room (core/room.hpp, core/lanes.hpp): the shares of admission, each lane's
// own `ahead`, caps across lanes, replay and snapshots.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/room.hpp"
#include "core/room_image.hpp"
#include "testing/room_steps.hpp"

namespace waitroom::core {
namespace {

using testing::kStartMs;
using testing::kStepMs;
using testing::rate;

constexpr std::uint8_t kVip = 1;
constexpr std::uint8_t kMembers = 2;

RoomSettings with_lanes(AdmissionPolicy a) {
  RoomSettings s;
  s.admission = a;
  s.lanes = {{"vip", 0.3}, {"members", 0.2}};
  s.ticket_idle_timeout_s = 0;
  s.claim_timeout_s = 0;
  return s;
}

TEST(RoomLanes, SharesHoldWithinTwoPercentOverFiveMinutes) {
  Room room("r", with_lanes(rate(600)));
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_TRUE(room.enqueue(now_s, 3000));
  ASSERT_TRUE(room.enqueue(now_s, 3000, 0, kVip));
  ASSERT_TRUE(room.enqueue(now_s, 3000, 0, kMembers));
  std::map<std::uint8_t, double> got;
  std::int64_t t = kStartMs;
  for (int i = 0; i < 3000; ++i) {  // five minutes of 100 ms steps
    t += kStepMs;
    for (std::uint64_t p : room.tick(t).admitted) ++got[room.ticket(p, t / 1000).lane];
  }
  const double total = got[0] + got[kVip] + got[kMembers];
  EXPECT_NEAR(total, 3000, 3000 * 0.02);
  EXPECT_NEAR(got[kVip] / total, 0.3, 0.02);
  EXPECT_NEAR(got[kMembers] / total, 0.2, 0.02);
  EXPECT_NEAR(got[0] / total, 0.5, 0.02);
}

TEST(RoomLanes, EachLaneIsServedInItsOwnOrder) {
  Room room("r", with_lanes(rate(6000)));
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_TRUE(room.enqueue(now_s, 50, 0, kVip));
  ASSERT_TRUE(room.enqueue(now_s, 50));
  ASSERT_TRUE(room.enqueue(now_s, 50, 0, kVip));
  std::vector<std::uint64_t> vip, other;
  for (std::int64_t t = kStartMs + kStepMs; t <= kStartMs + 3000; t += kStepMs)
    for (std::uint64_t p : room.tick(t).admitted)
      (room.ticket(p, t / 1000).lane == kVip ? vip : other).push_back(p);
  EXPECT_TRUE(std::is_sorted(vip.begin(), vip.end()));
  EXPECT_TRUE(std::is_sorted(other.begin(), other.end()));
  EXPECT_EQ(vip.size() + other.size(), 150u);
}

// A late VIP never moves anyone back: a visitor's ahead only goes down.
TEST(RoomLanes, AheadNeverGrowsUnderASteadyStreamOfVips) {
  Room room("r", with_lanes(rate(120)));
  std::int64_t t = kStartMs;
  ASSERT_TRUE(room.enqueue(t / 1000, 200));
  ASSERT_TRUE(room.enqueue(t / 1000, 20, 0, kVip));
  const std::vector<std::uint64_t> watched = {5, 50, 150, 200, 210, 220};
  std::map<std::uint64_t, std::uint64_t> last;
  for (std::uint64_t p : watched) last[p] = *room.ticket(p, t / 1000).ahead;
  EXPECT_EQ(last[50], 49u);  // the VIPs are not ahead of the default lane
  EXPECT_EQ(last[210], 9u);  // nor the default lane ahead of a VIP
  for (int i = 0; i < 1200; ++i) {
    t += kStepMs;
    if (i % 5 == 0) {  // two VIPs a second
      ASSERT_TRUE(room.enqueue(t / 1000, 1, 0, kVip));
    }
    room.tick(t);
    for (std::uint64_t p : watched) {
      const TicketState s = room.ticket(p, t / 1000);
      if (s.status != TicketStatus::waiting) continue;
      ASSERT_LE(*s.ahead, last[p]) << "position " << p << " at step " << i;
      last[p] = *s.ahead;
    }
  }
}

TEST(RoomLanes, CapsCountEveryLane) {
  AdmissionPolicy a;
  a.mode = AdmissionMode::max_active;
  a.max_active = 10;
  Room room("r", with_lanes(a));
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 30));
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 30, 0, kVip));
  room.tick(kStartMs + kStepMs);
  EXPECT_EQ(room.counters(kStartMs / 1000).eligible, 10u);
  room.tick(kStartMs + 2 * kStepMs);
  EXPECT_EQ(room.counters(kStartMs / 1000).eligible, 10u);
}

TEST(RoomLanes, AnEmptyLanesShareGoesToTheOthers) {
  Room room("r", with_lanes(rate(600)));
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 1000));
  std::uint64_t admitted = 0;
  for (std::int64_t t = kStartMs + kStepMs; t <= kStartMs + 60'000; t += kStepMs)
    admitted += room.tick(t).admitted.size();
  EXPECT_NEAR(static_cast<double>(admitted), 600, 12);  // the default lane alone, at full rate
}

TEST(RoomLanes, EstimatesAccountForTheShares) {
  Room room("r", with_lanes(rate(600)));
  const std::int64_t now_s = kStartMs / 1000;
  ASSERT_TRUE(room.enqueue(now_s, 100));
  ASSERT_TRUE(room.enqueue(now_s, 100, 0, kVip));
  ASSERT_TRUE(room.enqueue(now_s, 100, 0, kMembers));
  // 30 VIPs ahead at 0.3 of 10 a second wait as long as 100 in one line: about 10 s; 30 in the
  // default lane at its 0.5, about 6 s.
  const TicketState vip = room.ticket(131, now_s);
  const TicketState plain = room.ticket(31, now_s);
  ASSERT_TRUE(vip.eta && plain.eta);
  EXPECT_EQ(*vip.ahead, 30u);
  EXPECT_EQ(*plain.ahead, 30u);
  EXPECT_GT(vip.eta->p50_s, plain.eta->p50_s);
  EXPECT_NEAR(static_cast<double>(vip.eta->p50_s), 10, 2);
  EXPECT_NEAR(static_cast<double>(plain.eta->p50_s), 6, 2);
}

TEST(RoomLanes, IdleVisitorsInALaneLeaveIt) {
  RoomSettings s = with_lanes(AdmissionPolicy{});  // manual: nobody is let in meanwhile
  s.ticket_idle_timeout_s = 30;
  Room room("r", s);
  std::int64_t t = kStartMs;
  ASSERT_TRUE(room.enqueue(t / 1000, 5, kTracksPresence, kVip));
  for (int i = 0; i < 400; ++i) room.tick(t += kStepMs);  // 40 s: past the idle timeout
  EXPECT_EQ(room.waiting_in_lane(kVip), 0u);
  EXPECT_GE(room.counters(t / 1000).tickets_left, 1u);
}

TEST(RoomLanes, AnOperatorsAdvanceIsShared) {
  Room room("r", with_lanes(AdmissionPolicy{}));
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 100));
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 100, 0, kVip));
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 100, 0, kMembers));
  auto step = room.advance_by(100, kStartMs / 1000);
  ASSERT_TRUE(step);
  EXPECT_EQ(step->admitted.size(), 100u);
  EXPECT_NEAR(100.0 - static_cast<double>(room.waiting_in_lane(kVip)), 30, 1);
  EXPECT_NEAR(100.0 - static_cast<double>(room.waiting_in_lane(kMembers)), 20, 1);
}

// What the log and snapshots keep brings back the same room.
TEST(RoomLanes, ReplayAndSnapshotsKeepTheLanes) {
  Room live("r", with_lanes(rate(600)));
  Room replayed("r", with_lanes(rate(600)));
  std::int64_t t = kStartMs;
  for (int i = 0; i < 200; ++i) {
    const std::uint8_t lane = static_cast<std::uint8_t>(i % 3);
    ASSERT_TRUE(live.enqueue(t / 1000, 1, 0, lane));
    ASSERT_TRUE(replayed.enqueue(t / 1000, 1, 0, lane));
    t += kStepMs;
    replayed.apply(live.tick(t));
  }
  Room restored = Room::restore("r", with_lanes(rate(600)), live.image());
  for (std::uint64_t p = 1; p <= 200; ++p) {
    const TicketState a = live.ticket(p, t / 1000);
    for (Room* other : {&replayed, &restored}) {
      const TicketState b = other->ticket(p, t / 1000);
      EXPECT_EQ(a.status, b.status) << p;
      EXPECT_EQ(a.ahead, b.ahead) << p;
      EXPECT_EQ(a.lane, b.lane) << p;
    }
  }
  for (std::uint8_t lane = 0; lane <= 2; ++lane)
    EXPECT_EQ(live.waiting_in_lane(lane), restored.waiting_in_lane(lane));
}

}  // namespace
}  // namespace waitroom::core
