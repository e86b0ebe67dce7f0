#include "gate/oidc_codes.hpp"

#include <gtest/gtest.h>

#include <set>

namespace waitroom::gate {
namespace {

CodeGrant grant(std::string client = "shop") {
  CodeGrant g;
  g.room = "sale";
  g.client_id = std::move(client);
  g.redirect_uri = "https://shop.example/cb";
  g.ticket = "t";
  g.pass = "p";
  g.access_jti = "jti-1";
  g.pass_expires_at_s = 2'000;
  return g;
}

constexpr std::int64_t kNowMs = 1'000'000;

TEST(OidcCodes, CodesAreRandomAndLong) {
  OidcCodes codes;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto c = codes.issue(grant(), kNowMs);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->size(), 43u);  // 32 bytes, base64url
    EXPECT_TRUE(seen.insert(*c).second);
  }
}

TEST(OidcCodes, ACodeIsRedeemedOnceAndItsReplayRevokesTheToken) {
  OidcCodes codes;
  auto c = codes.issue(grant(), kNowMs);
  ASSERT_TRUE(c);
  auto first = codes.redeem(*c, kNowMs + 1'000);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->client_id, "shop");
  EXPECT_EQ(first->pass, "p");
  EXPECT_FALSE(codes.is_revoked("jti-1", kNowMs + 1'000));
  auto second = codes.redeem(*c, kNowMs + 2'000);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), RedeemError::reused);
  EXPECT_TRUE(codes.is_revoked("jti-1", kNowMs + 2'000));
  EXPECT_FALSE(codes.is_revoked("jti-1", 2'001'000));  // past the token's own expiry
}

TEST(OidcCodes, ExpiresAfterSixtySeconds) {
  OidcCodes codes;
  auto c = codes.issue(grant(), kNowMs);
  ASSERT_TRUE(c);
  auto late = codes.redeem(*c, kNowMs + kCodeLifetimeMs);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), RedeemError::expired);
  // An expired code bought nothing, so trying it again revokes nothing.
  EXPECT_EQ(codes.redeem(*c, kNowMs + kCodeLifetimeMs + 1).error(), RedeemError::reused);
  EXPECT_FALSE(codes.is_revoked("jti-1", kNowMs + kCodeLifetimeMs + 1));
  auto just_in_time = codes.issue(grant(), kNowMs);
  ASSERT_TRUE(just_in_time);
  EXPECT_TRUE(codes.redeem(*just_in_time, kNowMs + kCodeLifetimeMs - 1));
}

TEST(OidcCodes, UnknownCodes) {
  OidcCodes codes;
  EXPECT_EQ(codes.redeem("nope", kNowMs).error(), RedeemError::unknown);
  EXPECT_EQ(codes.redeem("", kNowMs).error(), RedeemError::unknown);
}

TEST(OidcCodes, TheTableIsBounded) {
  OidcCodes codes(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(codes.issue(grant(), kNowMs));
  EXPECT_FALSE(codes.issue(grant(), kNowMs + 1'000));
  EXPECT_EQ(codes.size(), 3u);
  // Unspent codes are forgotten once they expire, which makes room again.
  EXPECT_TRUE(codes.issue(grant(), kNowMs + kCodeLifetimeMs));
  EXPECT_EQ(codes.size(), 1u);
}

}  // namespace
}  // namespace waitroom::gate
