#include "engine/inventory_ops.hpp"

#include <gtest/gtest.h>

#include <random>

#include "engine/apply_record.hpp"
#include "engine/room_reads.hpp"
#include "engine/room_snapshot.hpp"

namespace waitroom::engine {
namespace {

class InventoryTest : public ::testing::Test {
 protected:
  core::Room make_room(std::int64_t reserve = 0) {
    core::RoomSettings s;
    s.admission.mode = core::AdmissionMode::rate;
    s.admission.rate_per_minute = 6000;  // a hundred a second
    s.ticket_idle_timeout_s = 0;
    s.claim_timeout_s = 0;
    s.reserve_per_session = reserve;
    std::uint32_t last_epoch = 0;
    return create_room("shop", std::move(s), last_epoch);
  }
  OpContext ctx() { return OpContext{clock_, ids_, nullptr}; }
  std::string ticket(const core::Room& room, std::uint64_t p) {
    return ids_.encode(room.name(), room.epoch(), p);
  }
  void join(core::Room& room, int n) {
    Effects fx;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(enqueue(room, ctx(), Join{}, fx));
  }
  void step(core::Room& room, std::int64_t ms) {
    for (std::int64_t t = 0; t < ms; t += 100) {
      clock_.advance_ms(100);
      std::uint64_t expired = 0;
      Effects fx;
      admission_step(room, ctx(), clock_.now_ms(), false, expired, fx);
    }
  }
  // The admitted visitor at `p` claims a pass and completes, buying `items`.
  core::Result<TicketView> buy(core::Room& room, std::uint64_t p, std::uint64_t items) {
    Effects fx(true);
    auto plan = plan_pass(room, ctx(), p, ticket(room, p), PassOptions{});
    if (!plan) return std::unexpected(plan.error());
    if (!plan->issued) {
      if (auto r = record_pass(room, ctx(), plan->request, "pass-" + std::to_string(p), fx); !r)
        return std::unexpected(r.error());
    }
    auto done =
        end_session(room, ctx(), p, ticket(room, p), core::TicketStatus::completed, fx, items);
    last_events_ = std::move(fx.events);
    return done;
  }
  core::Result<InventoryView> set(core::Room& room, std::optional<std::uint64_t> left) {
    Effects fx(true);
    auto r = change_inventory(room, ctx(), InventoryChange{left, std::nullopt}, fx);
    last_events_ = std::move(fx.events);
    return r;
  }
  std::vector<std::string> event_types() const {
    std::vector<std::string> out;
    for (const auto& e : last_events_) out.push_back(e.type);
    return out;
  }

  core::ManualClock clock_;
  token::TicketIdCodec ids_{std::string(32, 's')};
  std::vector<ops::Event> last_events_;
};

TEST_F(InventoryTest, ACompletedPurchaseTakesItsItemsOffOnceAndNeverMoreThanAreLeft) {
  core::Room room = make_room();
  ASSERT_TRUE(set(room, 5));
  join(room, 3);
  step(room, 1000);
  ASSERT_TRUE(buy(room, 1, 3));
  EXPECT_EQ(room.inventory(), 2u);
  EXPECT_EQ(event_types(),
            (std::vector<std::string>{"token_generated", "session_updated", "inventory.changed"}));
  // The same completion again (a retry) buys nothing more.
  Effects again;
  ASSERT_TRUE(
      end_session(room, ctx(), 1, ticket(room, 1), core::TicketStatus::completed, again, 3));
  EXPECT_TRUE(again.records.empty());
  EXPECT_EQ(room.inventory(), 2u);
  // More than is left: refused, and the session stays active.
  auto over = buy(room, 2, 3);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(room.session(2, clock_.now_s())->status, core::TicketStatus::admitted);
  ASSERT_TRUE(buy(room, 2, 2));
  EXPECT_TRUE(room.sold_out());
  EXPECT_EQ(event_types(),
            (std::vector<std::string>{"session_updated", "inventory.changed", "room.sold_out"}));
}

TEST_F(InventoryTest, SoldOutStopsTheLineAndTellsEveryoneWaitingUntilItemsComeBack) {
  core::Room room = make_room();
  join(room, 5);
  ASSERT_TRUE(set(room, 0));
  step(room, 2000);
  EXPECT_EQ(room.counters(clock_.now_s()).admitted, 0u);
  const core::TicketState waiting = room.ticket(3, clock_.now_s());
  EXPECT_TRUE(waiting.sold_out);
  EXPECT_FALSE(waiting.eta);
  EXPECT_EQ(room.line_status(clock_.now_s()).stopped, core::LineReason::sold_out);
  EXPECT_FALSE(room.admits_on_arrival(clock_.now_s()));  // joins are refused
  EXPECT_FALSE(room.advance_by(1, clock_.now_s()));      // and so is an operator's advance
  ASSERT_TRUE(set(room, 2));
  EXPECT_EQ(event_types(), (std::vector<std::string>{"inventory.changed", "room.reopened"}));
  EXPECT_FALSE(room.ticket(3, clock_.now_s()).sold_out);
  step(room, 1000);
  EXPECT_EQ(room.admission_order(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));  // line order
}

TEST_F(InventoryTest, ReservedItemsCapThePlacesHeldAndComeBackWhenASessionEndsWithoutBuying) {
  core::Room room = make_room(3);
  ASSERT_TRUE(set(room, 10));  // ceil(10 / 3): four places at most
  join(room, 10);
  step(room, 1000);
  EXPECT_EQ(room.counters(clock_.now_s()).admitted, 4u);
  EXPECT_EQ(inventory_view(room, clock_.now_s()).reserved, 10u);
  EXPECT_EQ(room.line_status(clock_.now_s()).stopped, core::LineReason::inventory_reserved);
  // One leaves without buying: its reservation comes back, and the next one goes in.
  Effects fx;
  auto plan = plan_pass(room, ctx(), 1, ticket(room, 1), PassOptions{});
  ASSERT_TRUE(record_pass(room, ctx(), plan->request, "pass-1", fx));
  ASSERT_TRUE(end_session(room, ctx(), 1, ticket(room, 1), core::TicketStatus::abandoned, fx));
  step(room, 1000);
  EXPECT_EQ(room.counters(clock_.now_s()).admitted, 5u);
}

// The promise on the engine's own ground: whatever visitors buy (1 to 3 items each),
// in whatever order their completions come, no more is ever sold than was stocked.
TEST_F(InventoryTest, TwentyRandomSalesNeverSellMoreThanWasStocked) {
  for (int run = 0; run < 20; ++run) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(run));
    core::Room room = make_room(3);
    ASSERT_TRUE(set(room, 1000));
    join(room, 5000);
    std::uint64_t sold = 0;
    std::uint64_t refused = 0;
    std::vector<std::uint64_t> shopping;  // admitted, not finished yet
    std::size_t seen = 0;
    for (int second = 0; second < 600 && !room.sold_out(); ++second) {
      step(room, 1000);
      const auto& order = room.admission_order();
      for (; seen < order.size(); ++seen) shopping.push_back(order[seen]);
      std::shuffle(shopping.begin(), shopping.end(), rng);
      // Some finish this second, in random order; a few leave without buying.
      const std::size_t finishing = shopping.size() / 2 + 1;
      for (std::size_t i = 0; i < finishing && !shopping.empty(); ++i) {
        const std::uint64_t p = shopping.back();
        shopping.pop_back();
        if (rng() % 10 == 0) {
          Effects fx;
          auto plan = plan_pass(room, ctx(), p, ticket(room, p), PassOptions{});
          ASSERT_TRUE(plan);
          if (!plan->issued) {
            ASSERT_TRUE(record_pass(room, ctx(), plan->request, "pass", fx));
          }
          ASSERT_TRUE(
              end_session(room, ctx(), p, ticket(room, p), core::TicketStatus::abandoned, fx));
          continue;
        }
        // Over-asking is refused; the site then sells what is left.
        const std::uint64_t items = 1 + rng() % 3;
        if (buy(room, p, items)) {
          sold += items;
        } else {
          ++refused;
          const std::uint64_t left = *room.inventory();
          ASSERT_LT(left, items);
          ASSERT_TRUE(buy(room, p, left));
          sold += left;
        }
      }
    }
    EXPECT_TRUE(room.sold_out()) << "run " << run;
    EXPECT_EQ(sold, 1000u) << "run " << run;
    // Every admitted visitor's items were reserved, but for the last place, which may have had
    // fewer than a reserve's worth (ceil(left / reserve) places).
    EXPECT_LE(refused, 1u) << "run " << run;
  }
}

TEST_F(InventoryTest, TheCountIsLoggedKeptBySnapshotsAndResetsAndCanBeDropped) {
  core::Room room = make_room();
  Effects fx;
  ASSERT_TRUE(change_inventory(room, ctx(), InventoryChange{std::uint64_t{7}, std::nullopt}, fx));
  ASSERT_EQ(fx.records.size(), 1u);
  auto decoded = decode_record(encode_record(fx.records[0]));
  ASSERT_TRUE(decoded);
  std::optional<core::Room> replayed(make_room());
  std::uint32_t last_epoch = 1;
  ASSERT_TRUE(apply_record("shop", replayed, last_epoch, *decoded, clock_.now_s()));
  EXPECT_EQ(replayed->inventory(), 7u);
  auto image = decode_image(encode_image(room.image()));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->inventory, 7u);
  room.reset(2);
  EXPECT_EQ(room.inventory(), 7u);
  EXPECT_FALSE(change_inventory(room, ctx(), InventoryChange{std::nullopt, -8}, fx));
  ASSERT_TRUE(change_inventory(room, ctx(), InventoryChange{std::nullopt, -7}, fx));
  EXPECT_TRUE(room.sold_out());
  ASSERT_TRUE(set(room, std::nullopt));
  EXPECT_EQ(room.inventory(), std::nullopt);
  EXPECT_FALSE(change_inventory(room, ctx(), InventoryChange{std::nullopt, 1}, fx));
}

}  // namespace
}  // namespace waitroom::engine
