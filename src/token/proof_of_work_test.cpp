#include "token/proof_of_work.hpp"

#include <gtest/gtest.h>

#include "testing/fixed_time.hpp"

namespace waitroom::token {
namespace {

using testing::kNow;
const std::string kSecret(32, 's');

std::string solve(const std::string& challenge, unsigned bits) {
  for (unsigned n = 0;; ++n)
    if (pow_zero_bits(challenge, std::to_string(n)) >= bits) return std::to_string(n);
}

TEST(ProofOfWork, ASolvedChallengeIsAcceptedOnceForItsRoomUntilItExpires) {
  ProofOfWork pow(kSecret);
  const PowChallenge c = pow.issue("shop", 10, kNow);
  EXPECT_EQ(c.bits, 10u);
  EXPECT_EQ(c.expires_at_s, kNow + kChallengeLifetimeS);
  const std::string nonce = solve(c.text, 10);
  auto solved = pow.verify("shop", c.text, nonce, 10, kNow);
  ASSERT_TRUE(solved) << solved.error().detail;
  EXPECT_FALSE(pow.verify("other", c.text, nonce, 10, kNow));           // another room
  EXPECT_FALSE(pow.verify("shop", c.text, nonce, 11, kNow));            // the room asks more now
  EXPECT_FALSE(pow.verify("shop", c.text, nonce, 10, c.expires_at_s));  // expired
  EXPECT_FALSE(
      ProofOfWork(std::string(32, 't')).verify("shop", c.text, nonce, 10, kNow));  // other server

  SpentChallenges spent;
  EXPECT_TRUE(spent.spend(*solved, kNow));
  auto replay = spent.spend(*solved, kNow + 1);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, core::ErrorCode::forbidden);
}

TEST(ProofOfWork, RefusesMalformedChallengesAndNonces) {
  ProofOfWork pow(kSecret);
  const PowChallenge c = pow.issue("shop", 4, kNow);
  const std::string nonce = solve(c.text, 4);
  for (const std::string& bad : {std::string(), std::string("1.4.x.y.z"), c.text + "x",
                                 "2" + c.text.substr(1), c.text.substr(0, c.text.size() - 1)})
    EXPECT_FALSE(pow.verify("shop", bad, nonce, 4, kNow)) << bad;
  EXPECT_FALSE(pow.verify("shop", c.text, "", 4, kNow));
  EXPECT_FALSE(pow.verify("shop", c.text, std::string(65, '1'), 4, kNow));
  EXPECT_FALSE(pow.verify("shop", c.text, "a b", 4, kNow));
  // Lowering the bits written in the challenge breaks its MAC.
  std::string easier = c.text;
  easier.replace(2, 1, "0");
  EXPECT_FALSE(pow.verify("shop", easier, "0", 0, kNow));
}

TEST(ProofOfWork, ZeroBitsCountsLeadingZeroBitsOfTheDigest) {
  // SHA-256("abc:0") = 5f36…: 0101 1111, one leading zero bit.
  EXPECT_EQ(pow_zero_bits("abc", "0"), 1u);
  const std::string n = solve("abc", 8);
  EXPECT_GE(pow_zero_bits("abc", n), 8u);
}

TEST(ProofOfWork, SpentIdsAreForgottenOnceExpired) {
  SpentChallenges spent;
  const SolvedChallenge a{"id-a", kNow + 5};
  ASSERT_TRUE(spent.spend(a, kNow));
  // After expiry the id could not verify anyway (the challenge is expired), so forgetting is safe.
  EXPECT_TRUE(spent.spend(SolvedChallenge{"id-b", kNow + 100}, kNow + 20));
  EXPECT_TRUE(spent.spend(a, kNow + 20));
}

}  // namespace
}  // namespace waitroom::token
