#include "engine/room_snapshot.hpp"

#include <gtest/gtest.h>

#include "engine/apply_record.hpp"

namespace waitroom::engine {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

core::Session session_of(std::string pass, std::int64_t expires_at_s) {
  return core::Session{std::move(pass), kNow, expires_at_s, core::TicketStatus::admitted, 0, {}, 0};
}

// A room with something of everything a log builds: a shuffled pre-queue, admissions, tickets that
// left or missed their claim, live, renewed and ended sessions.
core::Room busy_room() {
  core::RoomSettings st;
  st.claim_timeout_s = 60;
  st.events.push_back(core::ScheduledEvent{kNow - 100, kNow + 50, std::nullopt, {}, {}, {}});
  core::Room room("shop", st);
  room.reset(3);
  EXPECT_TRUE(room.enqueue(kNow - 200, 5, core::kTracksPresence));
  core::EventTransition open{core::EventTransition::Kind::prequeue_opened, kNow + 50, kNow - 90};
  open.seed = core::new_seed();
  open.first = 6;
  room.apply(open);
  EXPECT_TRUE(room.enqueue(kNow - 80, 20));
  core::EventTransition start{core::EventTransition::Kind::started, kNow + 50, kNow + 50};
  start.last = 25;
  room.apply(start);
  EXPECT_TRUE(room.advance_to(12, kNow + 60));
  core::Admissions later;
  later.at_s = kNow + 200;
  later.serving_to = 12;
  later.unclaimed = {room.admission_order()[0]};
  room.apply(later);
  room.add_session(room.admission_order()[1], session_of("pass-a", kNow + 900));
  room.add_session(room.admission_order()[2], session_of("pass-b", kNow + 900));
  room.add_session(room.admission_order()[3], session_of("pass-c", kNow + 300));
  EXPECT_TRUE(room.renew_session(room.admission_order()[1], "pass-a2", kNow + 1800, 0));
  EXPECT_TRUE(room.end_session(room.admission_order()[2], core::TicketStatus::completed, kNow));
  EXPECT_TRUE(room.enqueue(kNow + 300, 3));
  return room;
}

core::Room through_snapshot(const core::Room& room) {
  RoomSnapshotRecord record = snapshot_record(room.name(), room, 7);
  auto decoded = decode_record(encode_record(record));
  EXPECT_TRUE(decoded);
  std::optional<core::Room> restored;
  std::uint32_t last_epoch = 0;
  EXPECT_TRUE(apply_record(room.name(), restored, last_epoch, *decoded, kNow + 400));
  EXPECT_EQ(last_epoch, 7u);
  EXPECT_TRUE(restored);
  return std::move(*restored);
}

void expect_same(core::Room& a, core::Room& b, std::int64_t now_s) {
  EXPECT_EQ(a.epoch(), b.epoch());
  EXPECT_EQ(a.serving(), b.serving());
  EXPECT_EQ(a.queue_counter(), b.queue_counter());
  EXPECT_EQ(a.admission_order(), b.admission_order());
  const core::RoomCounters ca = a.counters(now_s), cb = b.counters(now_s);
  EXPECT_EQ(ca.waiting, cb.waiting);
  EXPECT_EQ(ca.eligible, cb.eligible);
  EXPECT_EQ(ca.admitted, cb.admitted);
  EXPECT_EQ(ca.tickets_expired, cb.tickets_expired);
  EXPECT_EQ(ca.active_sessions, cb.active_sessions);
  EXPECT_EQ(ca.passes_issued, cb.passes_issued);
  EXPECT_EQ(ca.completed, cb.completed);
  EXPECT_EQ(ca.expired, cb.expired);
  EXPECT_EQ(ca.tickets_issued_total, cb.tickets_issued_total);
  EXPECT_EQ(ca.passes_issued_total, cb.passes_issued_total);
  for (std::uint64_t p = 1; p <= a.queue_counter(); ++p) {
    const core::TicketState ta = a.ticket(p, now_s), tb = b.ticket(p, now_s);
    EXPECT_EQ(ta.status, tb.status) << "position " << p;
    EXPECT_EQ(ta.ahead, tb.ahead) << "position " << p;
    EXPECT_EQ(ta.entry_time_s, tb.entry_time_s) << "position " << p;
    EXPECT_EQ(ta.admitted_at_s, tb.admitted_at_s) << "position " << p;
    const core::Session* sa = a.session(p, now_s);
    const core::Session* sb = b.session(p, now_s);
    ASSERT_EQ(sa == nullptr, sb == nullptr) << "position " << p;
    if (sa && sa->status == core::TicketStatus::admitted) {
      EXPECT_EQ(sa->pass, sb->pass);
      EXPECT_EQ(sa->previous_pass, sb->previous_pass);
      EXPECT_EQ(sa->expires_at_s, sb->expires_at_s);
    }
  }
  const auto da = a.draws(), db = b.draws();
  ASSERT_EQ(da.size(), db.size());
  for (std::size_t i = 0; i < da.size(); ++i) {
    EXPECT_EQ(da[i].commitment, db[i].commitment);
    EXPECT_EQ(da[i].seed, db[i].seed);
    EXPECT_EQ(da[i].shuffled_first, db[i].shuffled_first);
    EXPECT_EQ(da[i].last_position, db[i].last_position);
  }
}

TEST(RoomSnapshot, RestoresEveryTicketSessionDrawAndCounter) {
  core::Room room = busy_room();
  core::Room restored = through_snapshot(room);
  expect_same(room, restored, kNow + 400);
}

TEST(RoomSnapshot, TheRestoredRoomGoesOnExactlyAsTheOriginal) {
  core::Room room = busy_room();
  core::Room restored = through_snapshot(room);
  for (core::Room* r : {&room, &restored}) {
    ASSERT_TRUE(r->advance_by(6, kNow + 500));
    ASSERT_EQ(r->enqueue(kNow + 500, 2).value(), 29u);
    ASSERT_TRUE(r->end_session(r->admission_order()[1], core::TicketStatus::revoked, kNow + 500));
  }
  expect_same(room, restored, kNow + 600);
  // A session that ran out by time in the meantime ended the same way in both.
  expect_same(room, restored, kNow + 5000);
}

TEST(RoomSnapshot, EndedSessionsKeepTheirStatusButNotTheirPasses) {
  core::Room room = busy_room();
  const std::string image = encode_image(room.image());
  EXPECT_NE(image.find("pass-a2"), std::string::npos);
  EXPECT_EQ(image.find("pass-b"), std::string::npos);  // completed
  core::Room restored = through_snapshot(room);
  const std::uint64_t completed = room.admission_order()[2];
  ASSERT_TRUE(restored.session(completed, kNow + 400));
  EXPECT_EQ(restored.session(completed, kNow + 400)->status, core::TicketStatus::completed);
  EXPECT_FALSE(restored.check_pass_allowed(completed, kNow + 400));
}

TEST(RoomSnapshot, CarriesTheOperatorsMessage) {
  core::Room room = busy_room();
  room.set_message(
      std::make_shared<const core::RoomMessage>(core::RoomMessage{"Late: \"10 min\"\n<b>", kNow}));
  core::Room restored = through_snapshot(room);
  ASSERT_TRUE(restored.message());
  EXPECT_EQ(*restored.message(), *room.message());
  expect_same(room, restored, kNow + 400);
  // Without a message the image is written as before it existed (version 1), which older
  // versions read, and it restores none.
  room.set_message(nullptr);
  const std::string plain = encode_image(room.image());
  EXPECT_EQ(plain[0], 1);
  auto decoded = decode_image(plain);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->message);
  EXPECT_FALSE(through_snapshot(room).message());
}

TEST(RoomSnapshot, RefusesAMessageCutShortOrEmpty) {
  core::RoomImage image = busy_room().image();
  image.message = core::RoomMessage{"hello", kNow};
  std::string bytes = encode_image(image);
  ASSERT_TRUE(decode_image(bytes));
  EXPECT_FALSE(decode_image(bytes.substr(0, bytes.size() - 1)));
  image.message = core::RoomMessage{"", kNow};
  EXPECT_FALSE(decode_image(encode_image(image)));
}

TEST(RoomSnapshot, ADeletedRoomKeepsItsEpochOnly) {
  RoomSnapshotRecord record = snapshot_record("gone", std::nullopt, 9);
  std::optional<core::Room> room = core::Room("gone", core::RoomSettings{});
  std::uint32_t last_epoch = 2;
  ASSERT_TRUE(apply_record("gone", room, last_epoch, LogRecord(record), kNow));
  EXPECT_FALSE(room);
  EXPECT_EQ(last_epoch, 9u);
}

TEST(RoomSnapshot, RefusesAnImageThatNamesPositionsPastTheLine) {
  core::RoomImage image = busy_room().image();
  ASSERT_TRUE(decode_image(encode_image(image)));
  core::RoomImage bad = image;
  bad.admitted_order.push_back(bad.tickets.size() + 1);
  EXPECT_FALSE(decode_image(encode_image(bad)));
  std::string cut = encode_image(image);
  cut.pop_back();
  EXPECT_FALSE(decode_image(cut));
  std::string huge = encode_image(image);
  huge[20] = '\x7f';  // the ticket count's high byte: more tickets than bytes
  EXPECT_FALSE(decode_image(huge));
}

// A drawing's winners come with its moments' records and with a snapshot (image version 6): the
// restored room limits the same turns and numbers the same waitlist.
TEST(RoomSnapshot, KeepsADrawingsWinners) {
  core::RoomSettings st;
  st.claim_timeout_s = 0;
  st.ticket_idle_timeout_s = 0;
  core::ScheduledEvent e{kNow - 100, kNow + 50, kNow + 5000, {}, core::Queueing::draw, 4};
  st.events.push_back(e);
  core::Room room("shop", st);
  core::EventTransition open{core::EventTransition::Kind::prequeue_opened, kNow + 50, kNow - 90};
  open.seed = core::new_seed();
  open.first = 1;
  open.winners = 4;
  // The moment as the log keeps it.
  auto logged = decode_record(encode_record(event_record("shop", 1, open)));
  ASSERT_TRUE(logged);
  std::optional<core::Room> replayed(core::Room("shop", st));
  std::uint32_t last_epoch = 1;
  ASSERT_TRUE(apply_record("shop", replayed, last_epoch, *logged, kNow));
  EXPECT_EQ(replayed->draws().at(0).winners, 4u);
  room.apply(open);
  EXPECT_TRUE(room.enqueue(kNow - 80, 10));
  core::EventTransition start{core::EventTransition::Kind::started, kNow + 50, kNow + 50};
  start.last = 10;
  room.apply(start);
  EXPECT_TRUE(room.advance_by(10, kNow + 60));
  EXPECT_EQ(room.admission_order().size(), 4u);  // the winners' turns only
  core::Room restored = through_snapshot(room);
  EXPECT_EQ(restored.draws().at(0).winners, 4u);
  for (std::uint64_t p = 1; p <= 10; ++p) {
    const core::TicketState a = room.ticket(p, kNow + 400), b = restored.ticket(p, kNow + 400);
    EXPECT_EQ(a.drawing, b.drawing) << p;
    EXPECT_EQ(a.waitlist_position, b.waitlist_position) << p;
  }
  EXPECT_TRUE(restored.advance_by(10, kNow + 400));
  EXPECT_EQ(restored.admission_order().size(), 4u);
}

}  // namespace
}  // namespace waitroom::engine

namespace waitroom::engine {
namespace {

core::RoomSettings adaptive_settings() {
  core::RoomSettings s;
  s.admission.mode = core::AdmissionMode::adaptive;
  s.admission.target_p95_ms = 400;
  s.admission.max_per_minute = 600;
  return s;
}

// Adaptive admission's limit is state: its record replays it, a snapshot keeps it, and a room
// under another policy drops it.
TEST(AdmissionLimit, ItsRecordReplaysAndASnapshotKeepsIt) {
  std::optional<core::Room> room(core::Room("ad", adaptive_settings()));
  std::uint32_t last_epoch = 1;
  const LogRecord record = AdmissionLimitRecord{"ad", 37, kNow};
  auto decoded = decode_record(encode_record(record));
  ASSERT_TRUE(decoded);
  ASSERT_TRUE(apply_record("ad", room, last_epoch, *decoded, kNow));
  EXPECT_EQ(room->active_limit(), 37u);
  core::Room restored = through_snapshot(*room);
  EXPECT_EQ(restored.active_limit(), 37u);
  room->reset(2);  // the site's capacity outlives a new line
  EXPECT_EQ(room->active_limit(), 37u);
  core::RoomSettings rate = adaptive_settings();
  rate.admission.mode = core::AdmissionMode::rate;
  rate.admission.rate_per_minute = 60;
  room->set_settings(rate);
  EXPECT_EQ(room->active_limit(), std::nullopt);
  EXPECT_EQ(through_snapshot(*room).active_limit(), std::nullopt);
}

}  // namespace
}  // namespace waitroom::engine
