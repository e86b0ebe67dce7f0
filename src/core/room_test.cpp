#include "core/room.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

Room make_room() { return Room("demo", RoomSettings{}); }

void set_state(Room& room, RoomState state) {
  RoomSettings s = room.settings();
  s.state = state;
  room.set_settings(s);
}

TEST(Room, PositionsAreGapFreeFromOne) {
  Room room = make_room();
  EXPECT_EQ(room.enqueue(kNow).value(), 1u);
  EXPECT_EQ(room.enqueue(kNow).value(), 2u);
  EXPECT_EQ(room.enqueue(kNow, 10).value(), 3u);
  EXPECT_EQ(room.queue_counter(), 12u);
}

TEST(Room, TicketIsWaitingThenEligible) {
  Room room = make_room();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(room.enqueue(kNow));
  TicketState t = room.ticket(4, kNow);
  EXPECT_EQ(t.status, TicketStatus::waiting);
  EXPECT_EQ(t.ahead, 3u);
  ASSERT_TRUE(room.advance_by(2, kNow));
  EXPECT_EQ(room.ticket(4, kNow).ahead, 1u);
  ASSERT_TRUE(room.advance_to(4, kNow));
  t = room.ticket(4, kNow);
  EXPECT_EQ(t.status, TicketStatus::eligible);
  EXPECT_FALSE(t.ahead);
  EXPECT_EQ(t.queue_length, 5u);
}

TEST(Room, ServingNeverMovesBack) {
  Room room = make_room();
  ASSERT_TRUE(room.advance_to(10, kNow));
  auto r = room.advance_to(9, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::conflict);
  EXPECT_EQ(room.serving(), 10u);
  EXPECT_FALSE(room.advance_by(kMaxPosition, kNow));
}

TEST(Room, PassOnlyWhenEligibleAndNotPaused) {
  Room room = make_room();
  ASSERT_TRUE(room.enqueue(kNow));
  auto not_yet = room.check_pass_allowed(1, kNow);
  ASSERT_FALSE(not_yet);
  EXPECT_EQ(not_yet.error().code, ErrorCode::conflict);
  EXPECT_GT(not_yet.error().retry_after_s, 0);
  ASSERT_TRUE(room.advance_by(1, kNow));
  set_state(room, RoomState::paused);
  EXPECT_FALSE(room.check_pass_allowed(1, kNow));
  set_state(room, RoomState::open);
  EXPECT_TRUE(room.check_pass_allowed(1, kNow));
}

TEST(Room, SessionsExpireAndEnd) {
  Room room = make_room();
  ASSERT_TRUE(room.enqueue(kNow, 3));
  ASSERT_TRUE(room.advance_to(3, kNow));
  room.add_session(1, Session{"p1", kNow, kNow + 60, TicketStatus::admitted, 1, {}, 0});
  room.add_session(2, Session{"p2", kNow, kNow + 120, TicketStatus::admitted, 2, {}, 0});
  EXPECT_EQ(room.counters(kNow).active_sessions, 2u);
  EXPECT_EQ(room.ticket(1, kNow).status, TicketStatus::admitted);
  EXPECT_EQ(room.ticket(1, kNow + 60).status, TicketStatus::expired);
  RoomCounters c = room.counters(kNow + 60);
  EXPECT_EQ(c.active_sessions, 1u);
  EXPECT_EQ(c.expired, 1u);
  EXPECT_EQ(room.end_session(2, TicketStatus::revoked, kNow + 61).value(), true);
  EXPECT_EQ(room.end_session(2, TicketStatus::revoked, kNow + 61).value(), false);
  EXPECT_FALSE(room.end_session(2, TicketStatus::completed, kNow + 61));
  EXPECT_FALSE(room.end_session(3, TicketStatus::completed, kNow + 61));
  c = room.counters(kNow + 61);
  EXPECT_EQ(c.active_sessions, 0u);
  EXPECT_EQ(c.revoked, 1u);
  EXPECT_EQ(c.passes_issued, 2u);
  auto gone = room.check_pass_allowed(2, kNow + 61);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::gone);
}

TEST(Room, RenewalMovesTheExpiryAndKeepsThePreviousPass) {
  Room room = make_room();
  ASSERT_TRUE(room.enqueue(kNow, 2));
  ASSERT_TRUE(room.advance_to(2, kNow));
  room.add_session(1, Session{"p1", kNow, kNow + 60, TicketStatus::admitted, 1, {}, 0});
  ASSERT_TRUE(room.renew_session(1, "p1b", kNow + 100, 5));
  const Session* s = room.session(1, kNow + 70);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, TicketStatus::admitted);  // past the first expiry, alive through renewal
  EXPECT_EQ(s->pass, "p1b");
  EXPECT_EQ(s->previous_pass, "p1");
  EXPECT_EQ(s->previous_expires_at_s, kNow + 60);
  EXPECT_EQ(s->lsn, 5u);
  EXPECT_EQ(room.counters(kNow + 70).active_sessions, 1u);
  EXPECT_EQ(room.counters(kNow + 100).active_sessions, 0u);  // its new expiry still ends it
  EXPECT_EQ(room.counters(kNow + 100).expired, 1u);
  // an ended session is not renewed, except at replay when the restart's clock expired it
  auto refused = room.renew_session(1, "p1c", kNow + 200, 6);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::gone);
  ASSERT_TRUE(room.renew_session(1, "p1c", kNow + 200, 0, /*revive=*/true));
  RoomCounters c = room.counters(kNow + 150);
  EXPECT_EQ(c.active_sessions, 1u);
  EXPECT_EQ(c.expired, 0u);
  EXPECT_FALSE(room.renew_session(2, "none", kNow + 200, 7));  // no session to renew
}

TEST(Room, AddSessionKeepsTheFirst) {
  Room room = make_room();
  ASSERT_TRUE(room.enqueue(kNow));
  room.add_session(1, Session{"first", kNow, kNow + 60, TicketStatus::admitted, 1, {}, 0});
  const Session& kept =
      room.add_session(1, Session{"second", kNow, kNow + 60, TicketStatus::admitted, 2, {}, 0});
  EXPECT_EQ(kept.pass, "first");
  EXPECT_EQ(room.counters(kNow).passes_issued, 1u);
}

TEST(Room, ResetStartsAnEmptyEpoch) {
  Room room = make_room();
  ASSERT_TRUE(room.enqueue(kNow, 4));
  ASSERT_TRUE(room.advance_to(2, kNow));
  room.add_session(1, Session{"p", kNow, kNow + 60, TicketStatus::admitted, 1, {}, 0});
  room.reset(2);
  EXPECT_EQ(room.epoch(), 2u);
  EXPECT_EQ(room.queue_counter(), 0u);
  EXPECT_EQ(room.serving(), 0u);
  EXPECT_FALSE(room.has_ticket(1));
  RoomCounters c = room.counters(kNow);
  EXPECT_EQ(c.active_sessions, 0u);
  EXPECT_EQ(c.passes_issued, 0u);
  EXPECT_EQ(c.tickets_issued_total, 4u);
  EXPECT_EQ(room.enqueue(kNow).value(), 1u);
}

TEST(RoomSettings, Validation) {
  EXPECT_TRUE(validate(RoomSettings{}));
  RoomSettings s;
  s.pass_lifetime_s = 10;
  EXPECT_FALSE(validate(s));
  s = {};
  s.algorithm = "HS256";
  EXPECT_FALSE(validate(s));
  s = {};
  s.target_url = "javascript:alert(1)";
  EXPECT_FALSE(validate(s));
  EXPECT_TRUE(is_valid_room_name("demo-1_a"));
  EXPECT_FALSE(is_valid_room_name("-demo"));
  EXPECT_FALSE(is_valid_room_name("de mo"));
  EXPECT_FALSE(is_valid_room_name(std::string(65, 'a')));
}

}  // namespace
}  // namespace waitroom::core

namespace waitroom::core {
namespace {

TEST(RoomAbuse, MaxWaitingRefusesNewPlacesOnceThatManyWait) {
  constexpr std::int64_t now = 1'700'000'000;
  RoomSettings s;
  s.abuse.max_waiting = 2;
  Room room("r", s);
  ASSERT_TRUE(room.admits_on_arrival(now));
  ASSERT_TRUE(room.enqueue(now, 2));
  auto full = room.admits_on_arrival(now);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::full);
  EXPECT_EQ(full.error().retry_after_s, kFullRetryAfterS);
  ASSERT_TRUE(room.advance_by(1, now));  // one goes in: a place frees up
  EXPECT_TRUE(room.admits_on_arrival(now));

  // Visitors let in on arrival take no place in the line, so the cap does not stop them.
  s.queueing = Queueing::passthrough;
  Room open("p", s);
  ASSERT_TRUE(open.enqueue(now, 5));
  auto admits = open.admits_on_arrival(now);
  ASSERT_TRUE(admits);
  EXPECT_TRUE(*admits);
}

}  // namespace
}  // namespace waitroom::core
