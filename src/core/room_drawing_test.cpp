// Drawings (queueing "draw", docs/admission.md): the pre-queue's entrants are registered, at the
// start they are drawn, the first `winners` of the drawn order get turns, the rest wait on a
// waitlist whose numbers never go up, a winner who does not claim gives the turn to the next on
// the waitlist, and a replay of the logged steps reaches the same line.
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

constexpr std::int64_t kDrawT0 = kStartMs / 1000;
constexpr std::uint64_t kEntrants = 30;
constexpr std::uint64_t kWinners = 8;
constexpr std::int64_t kClaimS = 60;

RoomSettings drawing_room() {
  RoomSettings s;
  s.ticket_idle_timeout_s = 0;
  s.claim_timeout_s = kClaimS;
  ScheduledEvent e;
  e.prequeue_start_s = kDrawT0 + 10;
  e.start_s = kDrawT0 + 60;
  e.end_s = kDrawT0 + 3600;
  e.admission = rate(6000);
  e.queueing = Queueing::draw;
  e.winners = kWinners;
  s.events.push_back(e);
  return s;
}

// Steps both rooms to `until_ms`: `room` live, `replay` from what the log would hold.
void run(Room& room, Room& replay, std::int64_t& t, std::int64_t until_ms) {
  while (t < until_ms) {
    t += kStepMs;
    Admissions step = room.tick(t);
    for (const auto& tr : step.transitions) replay.apply(tr);
    if (step.changed) replay.apply(step);
  }
}

// Every drawn ticket's standing, in drawn order: 'w' won (waiting or admitted), or its
// waitlist number.
std::vector<std::uint64_t> waitlist_numbers(Room& room, const std::vector<std::uint64_t>& order,
                                            std::int64_t now_s) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t p : order) {
    const TicketState st = room.ticket(p, now_s);
    if (st.drawing == DrawStanding::waitlist) out.push_back(st.waitlist_position);
  }
  return out;
}

TEST(RoomDrawing, WinnersGetTurnsTheWaitlistFollowsAndUnclaimedTurnsPassOn) {
  RoomSettings s = drawing_room();
  Room room("r", s);
  Room replay("r", s);
  std::int64_t t = kStartMs;
  run(room, replay, t, (kDrawT0 + 20) * 1000);
  ASSERT_EQ(room.draws().size(), 1u);
  EXPECT_EQ(room.draws()[0].winners, kWinners);  // published with the commitment
  ASSERT_TRUE(room.enqueue(t / 1000, kEntrants));
  ASSERT_TRUE(replay.enqueue(t / 1000, kEntrants));
  EXPECT_EQ(room.ticket(5, t / 1000).drawing, DrawStanding::registered);
  EXPECT_FALSE(room.ticket(5, t / 1000).ahead);

  run(room, replay, t, (kDrawT0 + 70) * 1000);
  const DrawInfo d = room.draws()[0];
  ASSERT_TRUE(d.seed && d.started_at_s);
  const std::vector<std::uint64_t> order = draw_order(*seed_from_hex(*d.seed), 1, kEntrants);
  // The policy (100 a second) let the winners in, and nobody else: the rest wait, numbered.
  EXPECT_EQ(room.admission_order(),
            std::vector<std::uint64_t>(order.begin(), order.begin() + kWinners));
  for (std::uint64_t i = 0; i < kWinners; ++i)
    EXPECT_EQ(room.ticket(order[i], t / 1000).drawing, DrawStanding::won) << i;
  std::vector<std::uint64_t> expected_numbers;
  for (std::uint64_t n = 1; n <= kEntrants - kWinners; ++n) expected_numbers.push_back(n);
  EXPECT_EQ(waitlist_numbers(room, order, t / 1000), expected_numbers);
  const TicketState first_waiting = room.ticket(order[kWinners], t / 1000);
  EXPECT_EQ(first_waiting.waitlist_position, 1u);
  EXPECT_FALSE(first_waiting.eta);  // whether a turn comes free is not known
  EXPECT_EQ(first_waiting.status, TicketStatus::waiting);

  // Registration closed at the start; the operator cannot move the counter past the winners.
  const Result<bool> late = room.admits_on_arrival(t / 1000);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::conflict);
  EXPECT_FALSE(room.advance_to(kEntrants, t / 1000));
  Result<Admissions> by = room.advance_by(5, t / 1000);
  ASSERT_TRUE(by);
  EXPECT_TRUE(by->admitted.empty());

  // All but two winners claim; the two turns come back when their claim time runs out, and go
  // to the first two on the waitlist.
  for (std::uint64_t i = 2; i < kWinners; ++i) {
    Session session;
    session.pass = "p" + std::to_string(i);
    session.issued_at_s = t / 1000;
    session.expires_at_s = t / 1000 + 900;
    room.add_session(order[i], session);
    replay.add_session(order[i], session);
  }
  run(room, replay, t, (kDrawT0 + 70 + kClaimS + 5) * 1000);
  std::vector<std::uint64_t> served(order.begin(), order.begin() + kWinners + 2);
  EXPECT_EQ(room.admission_order(), served);
  EXPECT_EQ(replay.admission_order(), served);
  EXPECT_EQ(room.ticket(order[0], t / 1000).status, TicketStatus::expired);
  EXPECT_EQ(room.ticket(order[kWinners], t / 1000).drawing, DrawStanding::won);
  expected_numbers.resize(expected_numbers.size() - 2);
  EXPECT_EQ(waitlist_numbers(room, order, t / 1000), expected_numbers);
  EXPECT_EQ(waitlist_numbers(replay, order, t / 1000), expected_numbers);

  // A snapshot keeps the drawing: the restored room stands everyone where they were.
  Room restored = Room::restore("r", s, room.image());
  EXPECT_EQ(restored.draws()[0].winners, kWinners);
  EXPECT_EQ(waitlist_numbers(restored, order, t / 1000), expected_numbers);

  // When the event ends, its drawing no longer limits the line: the room's own settings apply.
  run(room, replay, t, (kDrawT0 + 3600 + 1) * 1000);
  EXPECT_EQ(room.ticket(order[kWinners + 2], t / 1000).drawing, DrawStanding::none);
  EXPECT_TRUE(room.admits_on_arrival(t / 1000));
}

TEST(RoomDrawing, AWaitlistNumberNeverGoesUpAndLeaversCostNoTurn) {
  RoomSettings s = drawing_room();
  s.ticket_idle_timeout_s = 30;
  s.claim_timeout_s = 0;
  s.events[0].admission->rate_per_minute = 60;  // one a second: the line moves while we look
  Room room("r", s);
  Room replay("r", s);
  std::int64_t t = kStartMs;
  run(room, replay, t, (kDrawT0 + 20) * 1000);
  ASSERT_TRUE(room.enqueue(t / 1000, kEntrants, kTracksPresence));
  ASSERT_TRUE(replay.enqueue(t / 1000, kEntrants, kTracksPresence));
  // Every third entrant stops asking; the others keep their page open.
  auto stays = [](std::uint64_t p) { return p % 3 != 0; };
  run(room, replay, t, (kDrawT0 + 50) * 1000);
  for (std::uint64_t p = 1; p <= kEntrants; ++p)
    if (stays(p)) room.mark_seen(p, t / 1000);
  run(room, replay, t, (kDrawT0 + 60) * 1000 + kStepMs);
  const DrawInfo d = room.draws()[0];
  const std::vector<std::uint64_t> order = draw_order(*seed_from_hex(*d.seed), 1, kEntrants);
  std::map<std::uint64_t, std::uint64_t> last_number;
  for (int second = 0; second < 120; ++second) {
    for (std::uint64_t p = 1; p <= kEntrants; ++p)
      if (stays(p)) room.mark_seen(p, t / 1000);
    for (std::uint64_t p = 1; p <= kEntrants; ++p) {
      const TicketState st = room.ticket(p, t / 1000);
      if (st.drawing != DrawStanding::waitlist) continue;
      if (last_number.contains(p)) {
        EXPECT_LE(st.waitlist_position, last_number[p]) << p;
      }
      last_number[p] = st.waitlist_position;
    }
    run(room, replay, t, t + 1000);
  }
  // The winners' turns went to those still there, in drawn order: nobody who left took one.
  std::vector<std::uint64_t> expected;
  for (std::uint64_t p : order)
    if (stays(p) && expected.size() < kWinners) expected.push_back(p);
  EXPECT_EQ(room.admission_order(), expected);
  EXPECT_EQ(replay.admission_order(), expected);
  EXPECT_FALSE(last_number.empty());
}

// Found gone by rank, as the line runs: a drawn visitor whose position is below the serving
// counter (but whose place is above it) still leaves when they stop asking, so the counts and the
// waitlist numbers behind them do not keep them.
TEST(RoomDrawing, WaitlistedVisitorsWhoLeaveAreFoundGone) {
  RoomSettings s = drawing_room();
  s.ticket_idle_timeout_s = 30;
  s.claim_timeout_s = 0;
  s.events[0].winners = 6;
  Room room("r", s);
  Room replay("r", s);
  std::int64_t t = kStartMs;
  run(room, replay, t, (kDrawT0 + 20) * 1000);
  ASSERT_TRUE(room.enqueue(t / 1000, 10, kTracksPresence));
  ASSERT_TRUE(replay.enqueue(t / 1000, 10, kTracksPresence));
  run(room, replay, t, (kDrawT0 + 45) * 1000);
  for (std::uint64_t p = 1; p <= 10; ++p) room.mark_seen(p, t / 1000);
  run(room, replay, t, (kDrawT0 + 62) * 1000);
  ASSERT_EQ(room.admission_order().size(), 6u);
  EXPECT_EQ(room.counters(t / 1000).waiting, 4u);
  EXPECT_EQ(room.line_status(t / 1000).stopped, LineReason::drawing_full);
  // The four on the waitlist close their page; nobody else is waiting.
  run(room, replay, t, (kDrawT0 + 90) * 1000);
  EXPECT_EQ(room.counters(t / 1000).waiting, 0u);
  EXPECT_EQ(replay.counters(t / 1000).waiting, 0u);
  EXPECT_EQ(room.counters(t / 1000).tickets_left, 4u);
}

}  // namespace
}  // namespace waitroom::core
