#include "engine/notice_ops.hpp"

#include <gtest/gtest.h>

#include "engine/apply_record.hpp"
#include "engine/room_snapshot.hpp"

namespace waitroom::engine {
namespace {

// Leave and come back over one room's state: set, away, due, done, and every step replayed from
// its records and kept by a snapshot.
class NoticeOpsTest : public ::testing::Test {
 protected:
  static core::RoomSettings settings(core::AdmissionMode mode = core::AdmissionMode::manual) {
    core::RoomSettings s;
    s.admission.mode = mode;
    if (mode == core::AdmissionMode::rate) s.admission.rate_per_minute = 60;  // one a second
    s.ticket_idle_timeout_s = 60;
    s.claim_timeout_s = 600;
    s.away_max_s = 3600;
    s.notify_before_s = 30;
    return s;
  }
  core::Room make_room(core::RoomSettings s = settings()) {
    std::uint32_t last_epoch = 0;
    return create_room("shop", std::move(s), last_epoch);
  }
  OpContext ctx() { return OpContext{clock_, ids_, nullptr}; }
  std::string ticket(const core::Room& room, std::uint64_t p) {
    return ids_.encode(room.name(), room.epoch(), p);
  }
  void join(core::Room& room, int n) {
    for (int i = 0; i < n; ++i) {
      Effects fx;
      ASSERT_TRUE(enqueue(room, ctx(), Join{}, fx));
      keep(fx);
    }
  }
  core::Result<TicketView> set(core::Room& room, std::uint64_t p, core::NoticeChannel channel,
                               std::string contact = "sealed") {
    Effects fx(true);
    auto r = set_notice(room, ctx(), p, ticket(room, p), NoticeRequest{channel, contact, "de"}, fx);
    if (r) keep(fx);
    return r;
  }
  // The driver's steps for `ms`, without anyone polling (the visitors are away).
  void step(core::Room& room, std::int64_t ms) {
    for (std::int64_t t = 0; t < ms; t += 100) {
      clock_.advance_ms(100);
      std::uint64_t expired = 0;
      Effects fx(true);
      admission_step(room, ctx(), clock_.now_ms(), false, expired, fx);
      keep(fx);
    }
  }
  void advance(core::Room& room, std::uint64_t by) {
    Effects fx(true);
    ASSERT_TRUE(engine::advance(room, ctx(), Advance{by, std::nullopt}, fx));
    keep(fx);
  }
  void keep(Effects& fx) {
    for (auto& r : fx.records) log_.push_back(encode_record(r));
    for (auto& e : fx.events) events_.push_back(std::move(e));
  }
  std::vector<std::string> events(std::string_view type) const {
    std::vector<std::string> out;
    for (const auto& e : events_)
      if (e.type == type) out.push_back(boost::json::value_to<std::string>(e.data.at("ticket")));
    return out;
  }
  // The room as its log rebuilds it.
  core::Room replay(core::RoomSettings s = settings()) {
    std::optional<core::Room> room(make_room(std::move(s)));
    std::uint32_t last_epoch = room->epoch();
    for (const std::string& bytes : log_) {
      auto record = decode_record(bytes);
      EXPECT_TRUE(record);
      EXPECT_TRUE(apply_record("shop", room, last_epoch, *record, clock_.now_s()));
    }
    return std::move(*room);
  }

  core::ManualClock clock_;
  token::TicketIdCodec ids_{std::string(32, 's')};
  std::vector<std::string> log_;
  std::vector<ops::Event> events_;
};

TEST_F(NoticeOpsTest, OnlyAWaitingTicketInARoomWithAwayModeTakesANotice) {
  core::RoomSettings off = settings();
  off.away_max_s = 0;
  core::Room plain = make_room(off);
  join(plain, 1);
  auto refused = set(plain, 1, core::NoticeChannel::email);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::conflict);
  EXPECT_TRUE(plain.notices().empty());

  core::Room room = make_room();
  join(room, 2);
  advance(room, 1);
  EXPECT_FALSE(set(room, 1, core::NoticeChannel::email)) << "admitted already";
  auto ok = set(room, 2, core::NoticeChannel::email);
  ASSERT_TRUE(ok);
  ASSERT_TRUE(ok->state.notice);
  EXPECT_EQ(ok->state.notice->channel, core::NoticeChannel::email);
  EXPECT_TRUE(ok->state.notice->contact.empty()) << "a view never carries the contact";
  EXPECT_EQ(events("ticket.notice_set"), std::vector{ticket(room, 2)});
}

TEST_F(NoticeOpsTest, AVisitorWithANoticeKeepsThePlaceWhileAwayUpToAwayMaxS) {
  core::Room room = make_room();
  join(room, 2);
  ASSERT_TRUE(set(room, 1, core::NoticeChannel::webhook));
  step(room, 61'000);  // past ticket_idle_timeout_s
  EXPECT_EQ(room.ticket(1, clock_.now_s()).status, core::TicketStatus::waiting);
  EXPECT_EQ(room.ticket(2, clock_.now_s()).status, core::TicketStatus::expired);
  EXPECT_GT(room.ticket(1, clock_.now_s()).away_until_s, clock_.now_s());
  clock_.advance_ms(3600'000);  // past away_max_s
  step(room, 1000);
  EXPECT_EQ(room.ticket(1, clock_.now_s()).status, core::TicketStatus::expired);
  EXPECT_TRUE(room.notices().empty()) << "a ticket that left drops its notice";

  // Cancelling brings the idle timeout back.
  core::Room other = make_room();
  join(other, 1);
  ASSERT_TRUE(set(other, 1, core::NoticeChannel::webhook));
  Effects fx;
  cancel_notice(other, ctx(), 1, ticket(other, 1), fx);
  step(other, 61'000);
  EXPECT_EQ(other.ticket(1, clock_.now_s()).status, core::TicketStatus::expired);
}

TEST_F(NoticeOpsTest, TheNearMessageIsDueOnceWhenTheEstimateReachesNotifyBeforeS) {
  core::Room room = make_room(settings(core::AdmissionMode::rate));
  join(room, 40);
  ASSERT_TRUE(set(room, 40, core::NoticeChannel::email, "a@example.org"));
  ASSERT_TRUE(set(room, 20, core::NoticeChannel::push, "subscription"));
  // Everyone polls but the two who left the page; at one a second, 20 is due within about 30 s
  // of its turn and 40 twenty seconds later.
  std::int64_t near20 = 0, near40 = 0;
  for (int s = 0; s < 40 && !(near20 && near40); ++s) {
    for (std::uint64_t p = 1; p <= 40; ++p)
      if (p != 20 && p != 40) room.mark_seen(p, clock_.now_s());
    step(room, 1000);
    if (!near20 && !pending_notices(room, ctx()).empty()) near20 = clock_.now_s();
    for (const PendingNotice& n : pending_notices(room, ctx()))
      if (n.position == 40 && !near40) near40 = clock_.now_s();
  }
  ASSERT_TRUE(near20 && near40);
  EXPECT_EQ(events("ticket.turn_near"), (std::vector{ticket(room, 20), ticket(room, 40)}));
  const auto pending = pending_notices(room, ctx());
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].position, 20u);
  EXPECT_EQ(pending[0].kind, core::NoticeKind::turn_near);
  EXPECT_EQ(pending[0].contact, "subscription");
  EXPECT_EQ(pending[0].lang, "de");
  EXPECT_EQ(pending[1].contact, "a@example.org");
  step(room, 3000);
  EXPECT_EQ(events("ticket.turn_near").size(), 2u) << "once per ticket";
}

TEST_F(NoticeOpsTest, NotifyAheadDecidesWhenThereIsNoEstimate) {
  core::RoomSettings s = settings();
  s.notify_ahead = 2;
  core::Room room = make_room(s);
  join(room, 5);
  ASSERT_TRUE(set(room, 5, core::NoticeChannel::webhook));
  step(room, 2000);
  EXPECT_TRUE(events("ticket.turn_near").empty());
  advance(room, 2);
  step(room, 1000);
  EXPECT_EQ(events("ticket.turn_near"), std::vector{ticket(room, 5)});
  // A webhook notice is told by its event: nothing for the notifier to send.
  EXPECT_TRUE(pending_notices(room, ctx()).empty());
  EXPECT_EQ(room.notices().find(5)->near, core::NoticeProgress::sent);
}

TEST_F(NoticeOpsTest, ANewAddressSendsNothingTwice) {
  core::RoomSettings s = settings();
  s.notify_ahead = 1;
  core::Room room = make_room(s);
  join(room, 2);
  ASSERT_TRUE(set(room, 2, core::NoticeChannel::email, "first"));
  step(room, 1000);
  ASSERT_EQ(pending_notices(room, ctx()).size(), 1u);
  Effects fx(true);
  notice_done(room, ctx(), room.epoch(), 2, core::NoticeKind::turn_near, true, "", fx);
  keep(fx);
  // Again and again, to other addresses: each message goes out once per ticket.
  for (const char* other : {"second", "third"}) {
    ASSERT_TRUE(set(room, 2, core::NoticeChannel::email, other));
    step(room, 1000);
    EXPECT_TRUE(pending_notices(room, ctx()).empty());
  }
  EXPECT_EQ(events("ticket.turn_near").size(), 1u);
  advance(room, 2);
  auto pending = pending_notices(room, ctx());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].contact, "third") << "the turn goes to the latest address";
  EXPECT_EQ(replay().notices().list(), room.notices().list());
}

TEST_F(NoticeOpsTest, TheTurnIsDueOnAdmissionAndTheContactIsErasedOnceItIsDone) {
  core::Room room = make_room();
  join(room, 2);
  ASSERT_TRUE(set(room, 2, core::NoticeChannel::email, "a@example.org"));
  advance(room, 2);
  EXPECT_EQ(events("ticket.turn"), std::vector{ticket(room, 2)});
  auto pending = pending_notices(room, ctx());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].kind, core::NoticeKind::turn);
  EXPECT_EQ(pending[0].claim_until_s, clock_.now_s() + 600);
  EXPECT_EQ(room.notices().find(2)->near, core::NoticeProgress::skipped);

  Effects fx(true);
  notice_done(room, ctx(), room.epoch(), 2, core::NoticeKind::turn, true, "", fx);
  keep(fx);
  EXPECT_TRUE(pending_notices(room, ctx()).empty());
  const core::Notice* n = room.notices().find(2);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->turn, core::NoticeProgress::sent);
  EXPECT_TRUE(n->contact.empty()) << "nothing more to send: the address is erased";
  // A repeated report (a retry after a lost answer) writes nothing.
  Effects again(true);
  notice_done(room, ctx(), room.epoch(), 2, core::NoticeKind::turn, true, "", again);
  EXPECT_TRUE(again.records.empty());

  // The pass claimed: the wait is over, the notice is gone.
  auto plan = plan_pass(room, ctx(), 2, ticket(room, 2), PassOptions{});
  ASSERT_TRUE(plan);
  Effects claim(true);
  ASSERT_TRUE(record_pass(room, ctx(), plan->request, "pass", claim));
  keep(claim);
  EXPECT_FALSE(room.notices().find(2));
}

TEST_F(NoticeOpsTest, AGivenUpMessageSaysWhyWithoutTheContact) {
  core::Room room = make_room();
  join(room, 1);
  ASSERT_TRUE(set(room, 1, core::NoticeChannel::push, "secret-subscription"));
  advance(room, 1);
  Effects fx(true);
  notice_done(room, ctx(), room.epoch(), 1, core::NoticeKind::turn, false,
              "push service answered 410", fx);
  keep(fx);
  EXPECT_EQ(room.notices().find(1)->turn, core::NoticeProgress::failed);
  ASSERT_EQ(events("ticket.notice_failed").size(), 1u);
  EXPECT_EQ(boost::json::serialize(events_.back().data).find("secret"), std::string::npos);
}

TEST_F(NoticeOpsTest, ReplayAndSnapshotsRebuildEveryNotice) {
  core::Room room = make_room(settings(core::AdmissionMode::rate));
  join(room, 30);
  ASSERT_TRUE(set(room, 10, core::NoticeChannel::email, "ten"));
  ASSERT_TRUE(set(room, 30, core::NoticeChannel::push, "thirty"));
  ASSERT_TRUE(set(room, 25, core::NoticeChannel::webhook));
  for (int s = 0; s < 12; ++s) {
    for (std::uint64_t p = 1; p <= 30; ++p) room.mark_seen(p, clock_.now_s());
    step(room, 1000);
  }
  Effects fx(true);
  notice_done(room, ctx(), room.epoch(), 10, core::NoticeKind::turn_near, true, "", fx);
  keep(fx);
  ASSERT_FALSE(room.notices().empty());

  core::Room replayed = replay(settings(core::AdmissionMode::rate));
  EXPECT_EQ(replayed.notices().list(), room.notices().list());
  EXPECT_EQ(replayed.notices().outbox(), room.notices().outbox());

  auto image = decode_image(encode_image(room.image()));
  ASSERT_TRUE(image);
  core::Room restored =
      core::Room::restore("shop", settings(core::AdmissionMode::rate), std::move(*image));
  EXPECT_EQ(restored.notices().list(), room.notices().list());
  EXPECT_EQ(restored.notices().awaiting_near(), room.notices().awaiting_near());

  // A reset forgets every notice, in the live room and in replay.
  Effects reset_fx(true);
  std::uint32_t last_epoch = room.epoch();
  ASSERT_TRUE(reset(room, ctx(), last_epoch, reset_fx));
  keep(reset_fx);
  EXPECT_TRUE(room.notices().empty());
  EXPECT_TRUE(replay(settings(core::AdmissionMode::rate)).notices().empty());
}

}  // namespace
}  // namespace waitroom::engine
