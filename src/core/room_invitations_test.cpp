#include "core/room_invitations.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

TEST(RoomInvitations, AJtiStaysUsedUntilItsInvitationHasExpired) {
  RoomInvitations inv;
  constexpr std::int64_t kLeeway = 30;
  inv.use("early", 1'000, 500, kLeeway);
  for (int i = 0; i < 2000; ++i) inv.use("j" + std::to_string(i), 100'000, 900, kLeeway);
  EXPECT_TRUE(inv.used("early")) << "not expired when the uses came";
  // Past its exp (and the leeway), it may be forgotten: it is refused for its exp anyway.
  for (int i = 0; i < 2100; ++i) inv.use("k" + std::to_string(i), 100'000, 1'031, kLeeway);
  EXPECT_FALSE(inv.used("early"));
  EXPECT_TRUE(inv.used("j0"));
  EXPECT_TRUE(inv.used("k2099"));
}

TEST(RoomInvitations, PlacesAreKeptInOrderAndRestored) {
  RoomInvitations inv;
  inv.add_place("ann", 3);
  inv.add_place("bob", 4);
  inv.add_place("ann", 9);
  ASSERT_EQ(inv.places("ann").size(), 2u);
  EXPECT_EQ(inv.places("ann")[1], 9u);
  EXPECT_TRUE(inv.places("carl").empty());
  inv.use("x", 50, 0, 30);
  RoomInvitations copy;
  copy.restore(inv.used_list(), inv.places_list());
  EXPECT_EQ(copy.places_list(), inv.places_list());
  EXPECT_TRUE(copy.used("x"));
  inv.clear_places();
  EXPECT_TRUE(inv.places("ann").empty());
  EXPECT_TRUE(inv.used("x"));
}

}  // namespace
}  // namespace waitroom::core
