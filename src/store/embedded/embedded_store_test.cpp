#include "store/embedded/embedded_store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "testing/temp_dir.hpp"

namespace waitroom::store {
namespace {

using waitroom::testing::TempDir;

class CountingMinter final : public core::PassMinter {
 public:
  core::Result<std::string> mint(const core::PassRequest& r) const override {
    return "pass-" + r.room + "-" + std::to_string(r.position) + "-" + std::to_string(++minted_);
  }
  mutable int minted_ = 0;
};

template <class T>
core::Result<T> run(boost::asio::awaitable<core::Result<T>> op) {
  boost::asio::io_context ctx;
  std::optional<core::Result<T>> out;
  boost::asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, core::Result<T> r) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(r));
  });
  ctx.run();
  return std::move(*out);
}

class EmbeddedStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<EmbeddedStore> open() {
    auto s = EmbeddedStore::open(dir_.path(), true, clock_, ids_, minter_);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().detail);
    (*s)->start();
    return std::move(*s);
  }
  void create_room(EmbeddedStore& s, const std::string& name) {
    auto put = run(s.put_room(name, [](const auto&) { return core::Result<core::RoomSettings>(core::RoomSettings{}); }));
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
    for (int i = 0; i < 5; ++i) tickets.push_back(run(s->enqueue("demo", std::nullopt, true))->ticket.ticket);
    ASSERT_EQ(run(s->advance("demo", Advance{.by = 2, .to = std::nullopt})).value(), 2u);
    pass = run(s->issue_pass("demo", tickets[0], {}))->pass;
    ASSERT_TRUE(run(s->issue_pass("demo", tickets[1], {})));
    ASSERT_TRUE(run(s->end_session("demo", tickets[1], core::SessionStatus::revoked)));
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
  EXPECT_EQ(run(s->issue_pass("demo", tickets[0], {}))->pass, pass);  // the same pass, not a new one
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
  auto forged = run(s->enqueue("demo", std::string("00000000-0100-0001-0000-000000000000"), true)).value();
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
  const auto first = run(s->issue_pass("demo", t, PassOptions{.issuer = "https://x", .lifetime_s = 60})).value();
  EXPECT_EQ(first.expires_at_s, clock_.now_s() + 60);
  const auto again = run(s->issue_pass("demo", t, PassOptions{.issuer = std::nullopt, .lifetime_s = 600})).value();
  EXPECT_EQ(again.pass, first.pass);
  EXPECT_EQ(again.expires_at_s, first.expires_at_s);
}

TEST_F(EmbeddedStoreTest, ListsTicketsWhosePassExpired) {
  auto s = open();
  create_room(*s, "demo");
  std::vector<std::string> ts;
  for (int i = 0; i < 3; ++i) ts.push_back(run(s->enqueue("demo", std::nullopt, true))->ticket.ticket);
  ASSERT_TRUE(run(s->advance("demo", Advance{.by = 3, .to = std::nullopt})));
  ASSERT_TRUE(run(s->issue_pass("demo", ts[0], PassOptions{.issuer = std::nullopt, .lifetime_s = 60})));
  ASSERT_TRUE(run(s->issue_pass("demo", ts[1], PassOptions{.issuer = std::nullopt, .lifetime_s = 120})));
  ASSERT_TRUE(run(s->issue_pass("demo", ts[2], PassOptions{.issuer = std::nullopt, .lifetime_s = 60})));
  ASSERT_TRUE(run(s->end_session("demo", ts[2], core::SessionStatus::completed)));
  EXPECT_TRUE(run(s->expired_tickets("demo"))->empty());
  clock_.advance_ms(61'000);
  EXPECT_EQ(run(s->expired_tickets("demo")).value(), std::vector<std::string>{ts[0]});
}

}  // namespace
}  // namespace waitroom::store
