#include "store/embedded/embedded_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "testing/store_ops.hpp"
#include "testing/temp_dir.hpp"

namespace waitroom::store {
namespace {

using waitroom::testing::TempDir;

using waitroom::testing::CountingMinter;
using waitroom::testing::run;

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<EmbeddedStore> open() {
    auto s = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().detail);
    (*s)->start();
    return std::move(*s);
  }
  void create_room(EmbeddedStore& s, const std::string& name) {
    auto put = run(s.put_room(
        name, [](const auto&) { return core::Result<core::RoomSettings>(core::RoomSettings{}); }));
    ASSERT_TRUE(put.has_value());
  }

  TempDir dir_;
  core::ManualClock clock_;
  token::TicketIdCodec ids_{std::string(32, 's')};
  CountingMinter minter_;
};

TEST_F(EmbeddedStoreTest, RestartRebuildsTheSameState) {
  std::vector<std::string> tickets;
  std::string pass;
  {
    auto s = open();
    create_room(*s, "demo");
    create_room(*s, "other");
    for (int i = 0; i < 5; ++i)
      tickets.push_back(run(s->enqueue("demo", std::nullopt, true))->ticket.ticket);
    ASSERT_EQ(run(s->advance("demo", Advance{.by = 2, .to = std::nullopt})).value(), 2u);
    pass = run(s->issue_pass("demo", tickets[0], {}))->pass;
    ASSERT_TRUE(run(s->issue_pass("demo", tickets[1], {})));
    ASSERT_TRUE(run(s->end_session("demo", tickets[1], core::TicketStatus::revoked)));
    ASSERT_TRUE(run(s->set_paused("other", true)));
  }
  auto s = open();
  EXPECT_EQ(s->replayed_records(), 12u);  // 2 rooms, 5 enqueues, advance, 2 passes, end, pause
  auto demo = run(s->room("demo")).value();
  EXPECT_EQ(demo.counters.queue_counter, 5u);
  EXPECT_EQ(demo.counters.serving, 2u);
  EXPECT_EQ(demo.counters.passes_issued, 2u);
  EXPECT_EQ(demo.counters.revoked, 1u);
  EXPECT_EQ(demo.counters.active_sessions, 1u);
  EXPECT_TRUE(run(s->room("other"))->paused);
  EXPECT_EQ(run(s->issue_pass("demo", tickets[0], {}))->pass,
            pass);  // the same pass, not a new one
  EXPECT_EQ(run(s->ticket("demo", tickets[1]))->state.status, core::TicketStatus::revoked);
  EXPECT_EQ(run(s->ticket("demo", tickets[4]))->state.position, 5u);
  EXPECT_EQ(run(s->enqueue("demo", std::nullopt, true))->ticket.state.position, 6u);
}

TEST_F(EmbeddedStoreTest, TheMessageSurvivesRestartsAndCompactionAndGoesWithTheRoom) {
  {
    auto s = open();
    create_room(*s, "demo");
    ASSERT_TRUE(run(s->set_message("demo", "Ten minutes late")).value());
    EXPECT_EQ(run(s->set_message("nowhere", "x")).error().code, core::ErrorCode::not_found);
  }
  {
    auto s = open();
    auto message = run(s->room("demo"))->message;
    ASSERT_TRUE(message);
    EXPECT_EQ(message->text, "Ten minutes late");
    EXPECT_EQ(message->set_at_s, clock_.now_s());
    ASSERT_TRUE(run(s->compact()));
  }
  {
    auto s = open();
    ASSERT_TRUE(run(s->room("demo"))->message) << "the snapshot carries it";
    ASSERT_TRUE(run(s->reset("demo")));
    EXPECT_TRUE(run(s->room("demo"))->message) << "a reset keeps it";
    EXPECT_FALSE(run(s->set_message("demo", std::nullopt)).value());
  }
  {
    auto s = open();
    EXPECT_FALSE(run(s->room("demo"))->message) << "the clear was logged too";
    ASSERT_TRUE(run(s->set_message("demo", "gone with the room")));
    ASSERT_TRUE(run(s->delete_room("demo")));
    create_room(*s, "demo");
    EXPECT_FALSE(run(s->room("demo"))->message);
  }
}

TEST_F(EmbeddedStoreTest, OnePlacePerTicketCookie) {
  auto s = open();
  create_room(*s, "demo");
  auto first = run(s->enqueue("demo", std::nullopt, true)).value();
  EXPECT_TRUE(first.created);
  auto again = run(s->enqueue("demo", first.ticket.ticket, true)).value();
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.ticket.ticket, first.ticket.ticket);
  auto forged =
      run(s->enqueue("demo", std::string("00000000-0100-0001-0000-000000000000"), true)).value();
  EXPECT_TRUE(forged.created);
  EXPECT_EQ(forged.ticket.state.position, 2u);
}

TEST_F(EmbeddedStoreTest, ResetInvalidatesOldTicketsEvenAfterDeleteAndRecreate) {
  auto s = open();
  create_room(*s, "demo");
  const std::string old = run(s->enqueue("demo", std::nullopt, true))->ticket.ticket;
  ASSERT_TRUE(run(s->reset("demo")));
  EXPECT_EQ(run(s->ticket("demo", old)).error().code, core::ErrorCode::gone);
  ASSERT_TRUE(run(s->delete_room("demo")));
  EXPECT_EQ(run(s->ticket("demo", old)).error().code, core::ErrorCode::not_found);
  create_room(*s, "demo");
  ASSERT_TRUE(run(s->enqueue("demo", std::nullopt, true)));
  EXPECT_FALSE(run(s->ticket("demo", old)).has_value());
  EXPECT_EQ(run(s->room("demo"))->epoch, 3u);
}

TEST_F(EmbeddedStoreTest, PassOnlyOnceEligibleAndMintedOnce) {
  auto s = open();
  create_room(*s, "demo");
  const std::string t = run(s->enqueue("demo", std::nullopt, true))->ticket.ticket;
  auto early = run(s->issue_pass("demo", t, {}));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, core::ErrorCode::conflict);
  ASSERT_TRUE(run(s->advance("demo", Advance{.by = std::nullopt, .to = 1})));
  const auto a = run(s->issue_pass("demo", t, {})).value();
  const auto b = run(s->issue_pass("demo", t, {})).value();
  EXPECT_EQ(a.pass, b.pass);
  EXPECT_EQ(minter_.minted_, 1);
  EXPECT_EQ(a.expires_at_s, clock_.now_s() + core::kDefaultPassLifetimeS);
}

TEST_F(EmbeddedStoreTest, PassOptionsApplyToTheFirstIssueOnly) {
  auto s = open();
  create_room(*s, "demo");
  const std::string t = run(s->enqueue("demo", std::nullopt, true))->ticket.ticket;
  ASSERT_TRUE(run(s->advance("demo", Advance{.by = 1, .to = std::nullopt})));
  const auto first =
      run(s->issue_pass("demo", t,
                        PassOptions{.issuer = "https://x", .lifetime_s = 60, .client_prefix = {}}))
          .value();
  EXPECT_EQ(first.expires_at_s, clock_.now_s() + 60);
  const auto again =
      run(s->issue_pass(
              "demo", t,
              PassOptions{.issuer = std::nullopt, .lifetime_s = 600, .client_prefix = {}}))
          .value();
  EXPECT_EQ(again.pass, first.pass);
  EXPECT_EQ(again.expires_at_s, first.expires_at_s);
}

TEST_F(EmbeddedStoreTest, ListsTicketsWhosePassExpired) {
  auto s = open();
  create_room(*s, "demo");
  std::vector<std::string> ts;
  for (int i = 0; i < 3; ++i)
    ts.push_back(run(s->enqueue("demo", std::nullopt, true))->ticket.ticket);
  ASSERT_TRUE(run(s->advance("demo", Advance{.by = 3, .to = std::nullopt})));
  ASSERT_TRUE(run(s->issue_pass(
      "demo", ts[0], PassOptions{.issuer = std::nullopt, .lifetime_s = 60, .client_prefix = {}})));
  ASSERT_TRUE(run(s->issue_pass(
      "demo", ts[1], PassOptions{.issuer = std::nullopt, .lifetime_s = 120, .client_prefix = {}})));
  ASSERT_TRUE(run(s->issue_pass(
      "demo", ts[2], PassOptions{.issuer = std::nullopt, .lifetime_s = 60, .client_prefix = {}})));
  ASSERT_TRUE(run(s->end_session("demo", ts[2], core::TicketStatus::completed)));
  EXPECT_TRUE(run(s->expired_tickets("demo"))->empty());
  clock_.advance_ms(61'000);
  EXPECT_EQ(run(s->expired_tickets("demo")).value(), std::vector<std::string>{ts[0]});
}

}  // namespace
class RecordingListener final : public RoomChangeListener {
 public:
  void room_changed(const std::string& room) override { rooms.push_back(room); }
  std::vector<std::string> rooms;
};

// Event streams follow a room through its change counter and read its tickets by position.
TEST_F(EmbeddedStoreTest, ChangesOfWhatTicketsShowReachTheListener) {
  auto s = open();
  RecordingListener heard;
  s->set_change_listener(&heard);
  create_room(*s, "demo");
  std::vector<std::string> tickets;
  for (int i = 0; i < 3; ++i)
    tickets.push_back(run(s->enqueue("demo", std::nullopt, true))->ticket.ticket);
  EXPECT_TRUE(heard.rooms.empty()) << "a join behind nobody's view changed nothing";
  auto watched = run(s->watch_ticket("demo", tickets[1])).value();
  EXPECT_EQ(watched.view.state.position, 2u);
  EXPECT_GE(watched.change_id, static_cast<std::uint64_t>(clock_.now_ms()));

  ASSERT_TRUE(run(s->advance("demo", Advance{.by = 1, .to = std::nullopt})));
  ASSERT_EQ(heard.rooms, std::vector<std::string>{"demo"});
  const std::vector<std::uint64_t> positions{2, 1, 9};
  auto read = run(s->ticket_states("demo", positions)).value();
  EXPECT_EQ(read.change_id, watched.change_id + 1);
  EXPECT_EQ(read.epoch, watched.epoch);
  ASSERT_EQ(read.states.size(), 3u);
  EXPECT_EQ(read.states[0]->serving, 1u);
  EXPECT_EQ(read.states[0]->ahead, 0u);
  EXPECT_EQ(read.states[1]->status, core::TicketStatus::eligible);
  EXPECT_FALSE(read.states[2].has_value()) << "position 9 was never handed out";

  ASSERT_TRUE(run(s->issue_pass("demo", tickets[0], {})));  // eligible -> admitted
  ASSERT_TRUE(run(s->end_session("demo", tickets[0], core::TicketStatus::completed)));
  ASSERT_TRUE(run(s->set_paused("demo", true)));
  ASSERT_TRUE(run(s->reset("demo")));
  EXPECT_EQ(heard.rooms.size(), 5u);
  auto after_reset = run(s->ticket_states("demo", positions)).value();
  EXPECT_EQ(after_reset.epoch, watched.epoch + 1);
  EXPECT_EQ(after_reset.change_id, watched.change_id + 5);
  EXPECT_FALSE(after_reset.states[0].has_value());
  s->set_change_listener(nullptr);
}

namespace {

std::vector<std::string> types_in(const ops::EventFeed& feed, const std::string& room) {
  std::vector<std::string> out;
  for (const ops::FedEvent& e : feed.read(room, 0, 1000).events) out.push_back(e.event.type);
  return out;
}

TEST_F(EmbeddedStoreTest, EventsLeaveOnlyOnceTheirRecordIsDurable) {
  // Long enough that a loaded machine (make test runs suites side by side) reaches the commit
  // well before the write lands.
  constexpr auto kDelay = std::chrono::milliseconds(2000);
  ops::EventFeed feed(1 << 20);
  auto st = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_, &feed);
  ASSERT_TRUE(st.has_value());
  auto& s = **st;
  s.set_log_write_delay(kDelay);
  s.start();
  create_room(s, "demo");
  EXPECT_EQ(types_in(feed, "demo"), (std::vector<std::string>{"policy.changed"}));
  std::thread joining([&] { ASSERT_TRUE(run(s.enqueue("demo", std::nullopt, true))); });
  // In the feed (a snapshot would keep it) once committed, but not handed out while its record
  // is not durable.
  std::uint64_t first = 0;
  const auto deadline = std::chrono::steady_clock::now() + kDelay / 2;
  while (feed.kept("demo", first).size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(feed.kept("demo", first).size(), 2u);
  EXPECT_EQ(types_in(feed, "demo"), (std::vector<std::string>{"policy.changed"}));
  joining.join();
  EXPECT_EQ(types_in(feed, "demo"), (std::vector<std::string>{"policy.changed", "ticket.issued"}));
  s.stop();
}

TEST_F(EmbeddedStoreTest, AnAdmissionStepsEventsFollowOnceItsRecordsAreDurable) {
  ops::EventFeed feed(1 << 20);
  auto st = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_, &feed);
  ASSERT_TRUE(st.has_value());
  auto& s = **st;
  s.start();
  auto put = run(s.put_room("demo", [](const auto&) {
    core::RoomSettings settings;
    settings.admission.mode = core::AdmissionMode::rate;
    settings.admission.rate_per_minute = 600;
    return core::Result<core::RoomSettings>(settings);
  }));
  ASSERT_TRUE(put);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(s.enqueue("demo", std::nullopt, true)));
  for (int i = 0; i < 20; ++i) {
    clock_.advance_ms(kAdmissionStepMs);
    s.drive_admissions();
  }
  auto admitted = [&] {
    const auto types = types_in(feed, "demo");
    return std::count(types.begin(), types.end(), "ticket.admitted");
  };
  for (int i = 0; i < 300 && admitted() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(admitted(), 3);
  s.stop();
}

// The log is the outbox: a restart finds every event a reader had not saved, numbered as before,
// also across a compaction (the snapshot keeps them) and a delete.
TEST_F(EmbeddedStoreTest, TheFeedSurvivesARestartAndACompactionKeepingWhatReadersNeed) {
  std::vector<std::string> ids;
  {
    ops::EventFeed feed(1 << 20);
    const std::size_t reader = feed.add_reader("hook");
    feed.set_positions(reader, {}, /*fresh=*/false);
    auto st = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_, &feed);
    ASSERT_TRUE(st.has_value());
    auto& s = **st;
    s.start();
    create_room(s, "demo");                                                               // 1
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(run(s.enqueue("demo", std::nullopt, true)));  // 2-5
    feed.saved(reader, {{"demo", 3}});  // the webhook has 1-3
    ASSERT_TRUE(run(s.compact()));
    ASSERT_TRUE(run(s.enqueue("demo", std::nullopt, true)));  // 6
    ASSERT_TRUE(run(s.delete_room("demo")));                  // 7
    for (const auto& e : feed.read("demo", 0, 100).events) ids.push_back(e.event.id);
    s.stop();
  }
  ASSERT_EQ(ids.size(), 4u);  // 4-7
  ops::EventFeed feed(1 << 20);
  auto st = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_, &feed);
  ASSERT_TRUE(st.has_value());
  const ops::EventFeed::Page page = feed.read("demo", 0, 100);
  EXPECT_EQ(page.oldest, 4u);
  EXPECT_EQ(page.newest, 7u);
  std::vector<std::string> again;
  for (const auto& e : page.events) again.push_back(e.event.id);
  EXPECT_EQ(again, ids);
  EXPECT_EQ(page.events.back().event.type, "room.deleted");
  // Created again, the room numbers on after its last event.
  (*st)->start();
  create_room(**st, "demo");
  EXPECT_EQ(feed.read("demo", 7, 10).events.at(0).seq, 8u);
  (*st)->stop();
}

}  // namespace

}  // namespace waitroom::store
