#include "engine/room_ops.hpp"

#include <gtest/gtest.h>

#include "engine/apply_record.hpp"
#include "engine/code_ops.hpp"
#include "engine/room_snapshot.hpp"

namespace waitroom::engine {
namespace {

constexpr std::int64_t kInvitedUntilS = 4'000'000'000;

class RoomOpsTest : public ::testing::Test {
 protected:
  core::Room make_room(core::RoomSettings settings = {}) {
    std::uint32_t last_epoch = 0;
    return create_room("demo", std::move(settings), last_epoch);
  }
  OpContext ctx() { return OpContext{clock_, ids_, nullptr}; }

  core::ManualClock clock_;
  token::TicketIdCodec ids_{std::string(32, 's')};
};

TEST_F(RoomOpsTest, EnqueueLeavesItsRecordAndEventAndTellsNobodyElse) {
  core::Room room = make_room();
  Effects fx(true);
  auto r = enqueue(room, ctx(), Join{}, fx);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->ticket.state.position, 1u);
  ASSERT_EQ(fx.records.size(), 1u);
  const auto& rec = std::get<EnqueueRecord>(fx.records[0]);
  EXPECT_EQ(rec.first_position, 1u);
  EXPECT_EQ(rec.flags, core::kTracksPresence);
  ASSERT_EQ(fx.events.size(), 1u);
  EXPECT_EQ(fx.events[0].type, "ticket.issued");
  EXPECT_FALSE(fx.changed) << "a ticket behind changes nobody's status";
}

TEST_F(RoomOpsTest, NoEventsAreBuiltWhenNobodyListens) {
  core::Room room = make_room();
  Effects fx(false);
  ASSERT_TRUE(enqueue(room, ctx(), Join{}, fx));
  EXPECT_EQ(fx.records.size(), 1u);
  EXPECT_TRUE(fx.events.empty());
}

TEST_F(RoomOpsTest, ConsecutiveEnqueuesOfOneSecondShareARecord) {
  core::Room room = make_room();
  Effects fx(false);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(enqueue(room, ctx(), Join{}, fx));
  ASSERT_EQ(fx.records.size(), 1u);
  EXPECT_EQ(std::get<EnqueueRecord>(fx.records[0]).count, 3u);
  clock_.advance_ms(1000);
  ASSERT_TRUE(enqueue(room, ctx(), Join{}, fx));
  EXPECT_EQ(fx.records.size(), 2u) << "another second is another record";
}

TEST_F(RoomOpsTest, APassIsRecordedOnceAndALateSecondSignatureGetsTheFirst) {
  core::Room room = make_room();
  Effects fx(true);
  const auto t = enqueue(room, ctx(), Join{}, fx)->ticket.ticket;
  ASSERT_TRUE(advance(room, ctx(), Advance{.by = 1, .to = std::nullopt}, fx));
  auto plan = plan_pass(room, ctx(), 1, t, PassOptions{});
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->issued);
  Effects first(true), second(true);
  auto a = record_pass(room, ctx(), plan->request, "pass-a", first);
  auto b = record_pass(room, ctx(), plan->request, "pass-b", second);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->pass, "pass-a");
  EXPECT_EQ(b->pass, "pass-a") << "everyone gets the pass issued first";
  EXPECT_EQ(first.records.size(), 1u);
  EXPECT_TRUE(first.changed);
  EXPECT_TRUE(second.records.empty());
  EXPECT_TRUE(second.events.empty());
  EXPECT_TRUE(plan_pass(room, ctx(), 1, t, PassOptions{})->issued.has_value());
}

TEST_F(RoomOpsTest, ARefusedOperationLeavesNoEffects) {
  core::Room room = make_room();
  Effects fx(true);
  const auto t = enqueue(room, ctx(), Join{}, fx)->ticket.ticket;
  Effects refused(true);
  auto plan = plan_pass(room, ctx(), 1, t, PassOptions{});
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, core::ErrorCode::conflict);  // not yet
  auto ended = end_session(room, ctx(), 1, t, core::TicketStatus::completed, refused);
  EXPECT_FALSE(ended);
  EXPECT_TRUE(refused.empty());
}

TEST_F(RoomOpsTest, AResetStartsTheNextEpochAndRemembersIt) {
  core::Room room = make_room();
  std::uint32_t last_epoch = room.epoch();
  Effects fx(true);
  auto view = reset(room, ctx(), last_epoch, fx);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->epoch, 2u);
  EXPECT_EQ(last_epoch, 2u);
  EXPECT_EQ(std::get<ResetRecord>(fx.records.at(0)).new_epoch, 2u);
  EXPECT_TRUE(fx.changed);
}

TEST_F(RoomOpsTest, AnAdmissionStepRecordsWhatItAdmitted) {
  core::RoomSettings settings;
  settings.admission.mode = core::AdmissionMode::rate;
  settings.admission.rate_per_minute = 600;
  core::Room room = make_room(settings);
  Effects fx(true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(enqueue(room, ctx(), Join{}, fx));
  std::uint64_t expired = 0;
  Effects step(true);
  for (int i = 0; i < 20; ++i) {
    clock_.advance_ms(100);
    admission_step(room, ctx(), clock_.now_ms(), false, expired, step);
  }
  EXPECT_EQ(room.serving(), 3u);
  EXPECT_FALSE(step.records.empty());
  EXPECT_TRUE(step.changed);
  EXPECT_EQ(std::count_if(step.events.begin(), step.events.end(),
                          [](const ops::Event& e) { return e.type == "ticket.admitted"; }),
            3);
}

TEST_F(RoomOpsTest, TheMessageIsLoggedAnnouncedAndReplayed) {
  core::Room room = make_room();
  Effects fx(true);
  core::RoomMessagePtr set = set_message(room, ctx(), "Starts 10 minutes late", fx);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->text, "Starts 10 minutes late");
  EXPECT_EQ(set->set_at_s, 1'700'000'000);
  EXPECT_EQ(room.message(), set);
  EXPECT_TRUE(fx.changed) << "the room's streams push it";
  ASSERT_EQ(fx.records.size(), 1u);
  ASSERT_EQ(fx.events.size(), 1u);
  EXPECT_EQ(fx.events[0].type, "room.message_changed");
  EXPECT_EQ(fx.events[0].data.at("text").as_string(), "Starts 10 minutes late");
  EXPECT_EQ(fx.events[0].data.at("set_at").as_string(), "2023-11-14T22:13:20Z");

  // Replayed from its encoded record, the copy shows the same message.
  core::Room copy = make_room();
  auto decoded = decode_record(encode_record(fx.records[0]));
  ASSERT_TRUE(decoded);
  ASSERT_TRUE(apply_room_record(copy, *decoded, clock_.now_s()));
  ASSERT_TRUE(copy.message());
  EXPECT_EQ(*copy.message(), *set);

  // A reset keeps it: it is the operators' note, not the line's state.
  std::uint32_t last_epoch = room.epoch();
  Effects reset_fx(false);
  ASSERT_TRUE(reset(room, ctx(), last_epoch, reset_fx));
  EXPECT_EQ(room.message(), set);

  Effects cleared(true);
  EXPECT_FALSE(set_message(room, ctx(), std::nullopt, cleared));
  EXPECT_FALSE(room.message());
  ASSERT_EQ(cleared.events.size(), 1u);
  EXPECT_TRUE(cleared.events[0].data.at("text").is_null());
  ASSERT_TRUE(apply_room_record(copy, cleared.records.at(0), clock_.now_s()));
  EXPECT_FALSE(copy.message());

  Effects again(true);
  EXPECT_FALSE(set_message(room, ctx(), std::nullopt, again));
  EXPECT_TRUE(again.empty()) << "clearing no message writes nothing";
}

TEST_F(RoomOpsTest, ReadsCarryTheMessageWithoutCopyingIt) {
  core::Room room = make_room();
  Effects fx(false);
  const auto t = enqueue(room, ctx(), Join{}, fx)->ticket;
  EXPECT_FALSE(t.message);
  core::RoomMessagePtr set = set_message(room, ctx(), "Hello", fx);
  EXPECT_EQ(ticket_view(room, ctx(), 1).message.get(), set.get());
  const std::uint64_t positions[] = {1};
  EXPECT_EQ(ticket_states(room, ctx(), positions, 7).message.get(), set.get());
}

// A code's join writes its lane and its use; replaying the records (or a snapshot) gives back the
// same room: the same lanes, the same uses left.
TEST_F(RoomOpsTest, CodesAndTheirUsesAreReplayed) {
  core::RoomSettings settings;
  settings.lanes = {{"vip", 0.3}};
  core::Room room = make_room(settings);
  Effects fx(true);
  auto code = add_code(room, ctx(), NewCode{std::nullopt, 2, std::nullopt, "vip", false}, fx);
  ASSERT_TRUE(code);
  EXPECT_EQ(code->text.size(), 19u) << code->text;  // four groups of four
  auto first = enqueue(room, ctx(), Join{true, code->text, std::nullopt, std::nullopt}, fx);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->ticket.state.lane_name, "vip");
  auto plain = enqueue(room, ctx(), Join{}, fx);
  ASSERT_TRUE(plain);
  // The plain visitor types the code: a VIP place, and the old one is given up.
  auto moved =
      enqueue(room, ctx(), Join{true, code->text, plain->ticket.state.position, std::nullopt}, fx);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->ticket.state.lane_name, "vip");
  EXPECT_EQ(ticket_view(room, ctx(), plain->ticket.state.position).state.status,
            core::TicketStatus::expired);
  auto used_up = enqueue(room, ctx(), Join{true, code->text, std::nullopt, std::nullopt}, fx);
  ASSERT_FALSE(used_up);
  EXPECT_EQ(used_up.error().code, core::ErrorCode::forbidden);

  core::Room replayed = make_room(settings);
  for (const LogRecord& r : fx.records) ASSERT_TRUE(apply_room_record(replayed, r, clock_.now_s()));
  core::Room restored = core::Room::restore("demo", settings, room.image());
  for (core::Room* copy : {&replayed, &restored}) {
    ASSERT_EQ(copy->codes().all().size(), 1u);
    EXPECT_EQ(copy->codes().all()[0], room.codes().all()[0]);
    EXPECT_EQ(copy->waiting_in_lane(1), 2u);
    EXPECT_EQ(copy->waiting_in_lane(0), 0u);
  }
  auto image = decode_image(encode_image(room.image()));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->codes, room.image().codes);
  EXPECT_EQ(image->tickets[0].lane, 1);
}

// An invitation (verified before the lock) at a join: its jti used once, its lane, and one place
// per identity; all of it rebuilt by replay and by a snapshot.
TEST_F(RoomOpsTest, InvitationsHoldOnePlacePerIdentityAndAreReplayed) {
  core::RoomSettings settings;
  settings.lanes = {{"vip", 0.3}};
  core::Room room = make_room(settings);
  Effects fx(true);
  auto invite = [n = 0](std::string sub, std::optional<std::string> lane = {}) mutable {
    return token::Invitation{std::move(sub), std::move(lane), "jti-" + std::to_string(++n),
                             kInvitedUntilS, std::nullopt};
  };
  const token::Invitation ann = invite("ann", "vip");
  auto first = enqueue(room, ctx(), Join{true, std::nullopt, std::nullopt, ann}, fx);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->ticket.state.lane_name, "vip");
  ASSERT_EQ(fx.events.size(), 1u);
  EXPECT_EQ(fx.events[0].data.at("invitation").at("sub").as_string(), "ann");
  // Used once: refused after, whoever sends it.
  auto replay = enqueue(room, ctx(), Join{true, std::nullopt, std::nullopt, ann}, fx);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, core::ErrorCode::unauthorized);
  // ... but its own place sending it again gets that place.
  auto reload =
      enqueue(room, ctx(), Join{true, std::nullopt, first->ticket.state.position, ann}, fx);
  ASSERT_TRUE(reload) << reload.error().detail;
  EXPECT_EQ(reload->ticket.ticket, first->ticket.ticket);
  // Another invitation for the same person, another device: the same place, no new ticket.
  const std::size_t records = fx.records.size();
  auto phone = enqueue(room, ctx(), Join{true, std::nullopt, std::nullopt, invite("ann")}, fx);
  ASSERT_TRUE(phone);
  EXPECT_FALSE(phone->created);
  EXPECT_EQ(phone->ticket.ticket, first->ticket.ticket);
  EXPECT_EQ(fx.records.size(), records + 1) << "only the invitation's use is written";
  EXPECT_EQ(room.queue_counter(), 1u);
  // A lane the room does not have; an invite_only room without an invitation.
  auto gold =
      enqueue(room, ctx(), Join{true, std::nullopt, std::nullopt, invite("bob", "gold")}, fx);
  ASSERT_FALSE(gold);
  EXPECT_EQ(gold.error().code, core::ErrorCode::unauthorized);
  auto bob = enqueue(room, ctx(), Join{true, std::nullopt, std::nullopt, invite("bob")}, fx);
  ASSERT_TRUE(bob);
  core::RoomSettings only = settings;
  only.invitations.invite_only = true;
  only.invitations.keys = {{"k", "HS256", "", std::string(32, 'k')}};
  room.set_settings(only);
  auto uninvited = enqueue(room, ctx(), Join{}, fx);
  ASSERT_FALSE(uninvited);
  EXPECT_EQ(uninvited.error().code, core::ErrorCode::unauthorized);

  core::Room replayed = make_room(settings);
  for (const LogRecord& r : fx.records) ASSERT_TRUE(apply_room_record(replayed, r, clock_.now_s()));
  auto image = decode_image(encode_image(room.image()));
  ASSERT_TRUE(image);
  core::Room restored = core::Room::restore("demo", settings, std::move(*image));
  for (core::Room* copy : {&replayed, &restored}) {
    copy->refresh_presence(clock_.now_s());  // as the stores do after a replay
    EXPECT_TRUE(copy->invitations().used(ann.jti));
    EXPECT_EQ(copy->invitations().used_list(), room.invitations().used_list());
    EXPECT_EQ(copy->invitations().places_list(), room.invitations().places_list());
    auto again = enqueue(*copy, ctx(), Join{true, std::nullopt, std::nullopt, invite("ann")}, fx);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->ticket.state.position, first->ticket.state.position);
  }
  // A reset: the line is new, so is everyone's place; used invitations stay used.
  room.reset(room.epoch() + 1);
  EXPECT_TRUE(room.invitations().places("ann").empty());
  EXPECT_TRUE(room.invitations().used(ann.jti));
}

}  // namespace
}  // namespace waitroom::engine
