// Estimates over a room's line (core/room.hpp, core/estimate.hpp): only the visitors still
// waiting ahead of a ticket count, in line order, so the places of visitors who left cost nothing
// (docs/admission.md, "Estimates").
#include <gtest/gtest.h>

#include <vector>

#include "core/draw.hpp"
#include "core/room.hpp"
#include "testing/room_steps.hpp"

namespace waitroom::core {
namespace {

using testing::kStartMs;
using testing::kStepMs;
using testing::rate;

// Runs the driver in its 100 ms steps up to `to_ms`; the positions `present` says are there are
// seen every second (their visitors poll), the others go idle.
template <typename Present>
std::int64_t run_until(Room& room, std::int64_t from_ms, std::int64_t to_ms, Present present) {
  for (std::int64_t t = from_ms + kStepMs; t <= to_ms; t += kStepMs) {
    if (t % 1000 == 0)
      for (std::uint64_t p = 1; p <= room.queue_counter(); ++p)
        if (present(p)) room.mark_seen(p, t / 1000);
    room.tick(t);
  }
  return to_ms;
}

// With the configured pace of one admission a second, p50_s is the waiting ahead plus one.
void expect_waiting_ahead_counted(Room& room, const std::vector<std::uint64_t>& line_order,
                                  std::int64_t now_s) {
  std::uint64_t waiting_ahead = 0;
  int checked = 0;
  for (std::uint64_t p : line_order) {
    const TicketState st = room.ticket(p, now_s);
    if (st.status != TicketStatus::waiting) continue;
    ASSERT_TRUE(st.eta) << "position " << p;
    EXPECT_TRUE(st.eta->configured_pace);
    EXPECT_EQ(st.eta->p50_s, static_cast<std::int64_t>(waiting_ahead + 1)) << "position " << p;
    ++waiting_ahead;
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(RoomEstimate, OnlyTheVisitorsStillWaitingAheadCount) {
  RoomSettings s;  // manual while the visitors who left are found
  s.ticket_idle_timeout_s = 30;
  Room room("r", s);
  ASSERT_TRUE(room.enqueue(kStartMs / 1000, 400, kTracksPresence));
  auto present = [](std::uint64_t p) { return p % 3 != 0 && p % 7 != 0; };
  std::int64_t t = run_until(room, kStartMs, kStartMs + 40'000, present);
  ASSERT_GT(room.counters(t / 1000).tickets_expired, 150u);
  s.admission = rate(60);
  room.set_settings(s);
  t = run_until(room, t, t + 500, present);
  // Position 400 has 399 places ahead; about 200 of them are still waiting.
  EXPECT_EQ(room.ticket(400, t / 1000).ahead, 399u);
  std::vector<std::uint64_t> order;
  for (std::uint64_t p = 1; p <= 400; ++p) order.push_back(p);
  expect_waiting_ahead_counted(room, order, t / 1000);
  // Someone joining now has everyone waiting ahead.
  const auto newcomer = room.eta_for_newcomer(t);
  ASSERT_TRUE(newcomer);
  EXPECT_EQ(newcomer->p50_s, static_cast<std::int64_t>(room.counters(t / 1000).waiting + 1));
}

TEST(RoomEstimate, AShuffledPreQueueCountsInDrawOrder) {
  const std::int64_t t0 = kStartMs / 1000;
  RoomSettings s;
  s.ticket_idle_timeout_s = 30;
  ScheduledEvent e;
  e.prequeue_start_s = t0 + 10;
  e.start_s = t0 + 60;
  e.admission = rate(60);
  s.events.push_back(e);
  Room room("r", s);
  ASSERT_TRUE(room.enqueue(t0, 5, kTracksPresence));  // ahead of the pre-queue
  // Asked before the pre-queue opens (manual: no pace, but the line's places are counted), so
  // the counts are there before the draw gives the pre-queue its ranks, and must be redone.
  EXPECT_FALSE(room.ticket(3, t0 + 5).eta);
  std::int64_t t = run_until(room, kStartMs, kStartMs + 15'000, [](auto) { return true; });
  ASSERT_TRUE(room.enqueue(t / 1000, 300, kTracksPresence));
  auto present = [](std::uint64_t p) { return p % 4 != 0; };
  t = run_until(room, t, kStartMs + 60'000 + kStepMs, present);
  const DrawInfo d = room.draws().at(0);
  ASSERT_TRUE(d.seed);
  ASSERT_EQ(d.last_position, 305u);
  std::vector<std::uint64_t> order = {1, 2, 3, 4, 5};
  for (std::uint64_t p : draw_order(*seed_from_hex(*d.seed), 6, 305)) order.push_back(p);
  expect_waiting_ahead_counted(room, order, t / 1000);
}

}  // namespace
}  // namespace waitroom::core
