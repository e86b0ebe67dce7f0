#include "store/sign_in_providers.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace waitroom::store {
namespace {

// A sign-in finishes once; what it remembers for that ends with its cookie's life, and is bounded.
TEST(SignInProviders, EachSignInFinishesOnceAndTheMemoryOfThemIsBounded) {
  core::ManualClock clock;
  InvitationJwks jwks(clock, [](const std::string&) {
    return std::expected<std::string, std::string>(std::unexpected("no network in this test"));
  });
  SignInProviders providers(clock, jwks);
  const std::int64_t now_s = clock.now_ms() / 1000;
  EXPECT_TRUE(providers.spend("a", now_s + 600));
  EXPECT_FALSE(providers.spend("a", now_s + 600));  // the cookie came back
  EXPECT_TRUE(providers.spend("b", now_s + 600));
  clock.advance_ms(601'000);  // "a" and "b" expired with their cookies: forgotten, and refused
  EXPECT_TRUE(providers.spend("c", clock.now_ms() / 1000 + 600));
  EXPECT_FALSE(providers.spend("c", clock.now_ms() / 1000 + 600));
  // However many are started, at most kMaxSpentSignIns are kept: the oldest go first.
  const std::int64_t later = clock.now_ms() / 1000 + 600;
  for (std::size_t i = 0; i < kMaxSpentSignIns + 10; ++i)
    ASSERT_TRUE(providers.spend("s" + std::to_string(i), later + static_cast<std::int64_t>(i)));
  EXPECT_TRUE(providers.spend("s0", later));  // forgotten: the oldest
  EXPECT_FALSE(providers.spend("s" + std::to_string(kMaxSpentSignIns + 9), later));
}

}  // namespace
}  // namespace waitroom::store
