#include "token/pkce.hpp"

#include <gtest/gtest.h>

#include <string>

namespace waitroom::token {
namespace {

// RFC 7636 Appendix B.
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Pkce, MatchesTheRfcExample) {
  EXPECT_EQ(s256_challenge(kVerifier), kChallenge);
  EXPECT_TRUE(pkce_s256_matches(kVerifier, kChallenge));
  EXPECT_TRUE(is_valid_s256_challenge(kChallenge));
}

TEST(Pkce, RefusesAnotherVerifierOrChallenge) {
  std::string other(kVerifier);
  other.back() = 'j';
  EXPECT_FALSE(pkce_s256_matches(other, kChallenge));
  std::string challenge(kChallenge);
  challenge[0] = 'F';
  EXPECT_FALSE(pkce_s256_matches(kVerifier, challenge));
  EXPECT_FALSE(pkce_s256_matches(kVerifier, ""));
  // "plain": the verifier presented as its own challenge never matches.
  EXPECT_FALSE(pkce_s256_matches(kVerifier, kVerifier));
}

TEST(Pkce, VerifierFormat) {
  EXPECT_TRUE(is_valid_code_verifier(std::string(43, 'a')));
  EXPECT_TRUE(is_valid_code_verifier(std::string(128, '~')));
  EXPECT_FALSE(is_valid_code_verifier(std::string(42, 'a')));
  EXPECT_FALSE(is_valid_code_verifier(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_code_verifier(std::string(42, 'a') + "+"));
  EXPECT_FALSE(is_valid_code_verifier(std::string(42, 'a') + " "));
  // A too-short verifier is refused even when it hashes to the challenge.
  const std::string short_verifier = "abc";
  EXPECT_FALSE(pkce_s256_matches(short_verifier, s256_challenge(short_verifier)));
}

TEST(Pkce, ChallengeFormat) {
  EXPECT_FALSE(is_valid_s256_challenge(""));
  EXPECT_FALSE(is_valid_s256_challenge(std::string(kChallenge) + "A"));
  EXPECT_FALSE(is_valid_s256_challenge(std::string(42, 'A') + "="));
  EXPECT_FALSE(is_valid_s256_challenge(std::string(43, '+')));
}

}  // namespace
}  // namespace waitroom::token
