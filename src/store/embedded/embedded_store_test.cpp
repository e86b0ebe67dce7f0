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

// Records what was published and when, on the real clock.
class RecordingSink final : public ops::EventSink {
 public:
  void publish(const ops::Event& event) override {
    std::lock_guard lock(mu_);
    published_.emplace_back(event.type, std::chrono::steady_clock::now());
  }
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> published() {
    std::lock_guard lock(mu_);
    return published_;
  }
  long count(std::string_view type) {
    auto p = published();
    return std::count_if(p.begin(), p.end(), [&](const auto& e) { return e.first == type; });
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> published_;
};

TEST_F(EmbeddedStoreTest, EventsLeaveOnlyOnceTheirRecordIsDurable) {
  constexpr auto kDelay = std::chrono::milliseconds(300);
  auto st = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_);
  ASSERT_TRUE(st.has_value());
  auto& s = **st;
  RecordingSink sink;
  s.set_event_sink(&sink);
  s.set_log_write_delay(kDelay);
  s.start();
  create_room(s, "demo");
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(run(s.enqueue("demo", std::nullopt, true)));
  const auto published = sink.published();
  ASSERT_EQ(published.size(), 2u);  // policy.changed, ticket.issued
  EXPECT_EQ(published[1].first, "ticket.issued");
  // The writer waited kDelay before writing the ticket's record; the event came after that.
  EXPECT_GE(published[1].second - asked, kDelay);
  s.stop();
}

TEST_F(EmbeddedStoreTest, AnAdmissionStepAnnouncesOnceItsRecordsAreDurable) {
  auto st = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_);
  ASSERT_TRUE(st.has_value());
  auto& s = **st;
  RecordingSink sink;
  s.set_event_sink(&sink);
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
  // Nobody waits on the steps' records: their events follow once the log has them.
  for (int i = 0; i < 300 && sink.count("ticket.admitted") < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sink.count("ticket.admitted"), 3);
  s.stop();
}

}  // namespace

}  // namespace waitroom::store
