#include "web/sign_in_state.hpp"

#include <gtest/gtest.h>

#include "token/base64url.hpp"

namespace waitroom::web {
namespace {

constexpr std::int64_t kStartedAt = 1'800'000'000;

TEST(SignInStates, OpenGivesBackWhatWasSealedForThatRoomUntilItExpires) {
  const SignInStates states("0123456789abcdef0123456789abcdef");
  auto state = new_sign_in_state("sale", kStartedAt);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->verifier.size(), 43u);  // RFC 7636's least
  EXPECT_NE(state->state, state->nonce);
  state->return_url = "https://shop.example/basket";
  state->lang = "fr";
  state->party_size = 3;
  const std::string sealed = states.seal(*state);
  EXPECT_EQ(states.open(sealed, "sale", kStartedAt + 10), state);
  EXPECT_FALSE(states.open(sealed, "other", kStartedAt + 10));  // another room's sign-in
  EXPECT_FALSE(states.open(sealed, "sale", kStartedAt + kSignInStateLifetimeS));
  // Another server's secret, or a byte changed anywhere: nothing.
  EXPECT_FALSE(SignInStates("another secret, another key....").open(sealed, "sale", kStartedAt));
  std::string bytes = *token::base64url_decode(sealed);
  for (std::size_t i : {std::size_t{0}, bytes.size() / 2, bytes.size() - 1}) {
    std::string tampered = bytes;
    tampered[i] = static_cast<char>(tampered[i] ^ 1);
    EXPECT_FALSE(states.open(token::base64url_encode(tampered), "sale", kStartedAt)) << i;
  }
  // Encrypted: neither the verifier nor the nonce can be read from the cookie.
  EXPECT_EQ(bytes.find(state->verifier), std::string::npos);
  EXPECT_EQ(sealed.find(token::base64url_encode(state->verifier)), std::string::npos);
  EXPECT_FALSE(states.open("", "sale", kStartedAt));
  EXPECT_FALSE(states.open("not base64!", "sale", kStartedAt));
}

}  // namespace
}  // namespace waitroom::web
