#include "gate/oidc_client_auth.hpp"

#include <gtest/gtest.h>

namespace waitroom::gate {
namespace {

// base64("shop:s3cret") and base64("a%3Ab:x%2By") (an id with ':' and a secret with '+').
constexpr std::string_view kShopBasic = "Basic c2hvcDpzM2NyZXQ=";
constexpr std::string_view kEncodedBasic = "Basic YSUzQWI6eCUyQnk=";

TEST(ClientAuth, Basic) {
  auto c = read_client_credentials(kShopBasic, std::nullopt, std::nullopt);
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->method, ClientAuthMethod::basic);
  EXPECT_EQ(c->client_id, "shop");
  EXPECT_EQ(c->client_secret, "s3cret");
  // The form may repeat the same client_id.
  EXPECT_TRUE(read_client_credentials(kShopBasic, "shop", std::nullopt));
  // Both halves are form-decoded.
  auto e = read_client_credentials(kEncodedBasic, std::nullopt, std::nullopt);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->client_id, "a:b");
  EXPECT_EQ(e->client_secret, "x+y");
}

TEST(ClientAuth, Post) {
  auto c = read_client_credentials("", "shop", "s3cret");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->method, ClientAuthMethod::post);
  EXPECT_EQ(c->client_secret, "s3cret");
  auto none = read_client_credentials("", "app", std::nullopt);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->method, ClientAuthMethod::none);
  EXPECT_EQ(none->client_id, "app");
}

TEST(ClientAuth, NoClientAtAllIsUnauthorized) {
  for (auto secret :
       {std::optional<std::string_view>{}, std::optional<std::string_view>{"s3cret"}}) {
    auto c = read_client_credentials("", std::nullopt, secret);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, core::ErrorCode::unauthorized);
  }
}

TEST(ClientAuth, RefusesMalformedOrDoubleAuthentication) {
  EXPECT_FALSE(read_client_credentials("Bearer abc", std::nullopt, std::nullopt));
  EXPECT_FALSE(read_client_credentials("Basic !!!!", std::nullopt, std::nullopt));
  EXPECT_FALSE(
      read_client_credentials("Basic c2hvcA==", std::nullopt, std::nullopt));  // "shop", no colon
  EXPECT_FALSE(read_client_credentials(kShopBasic, std::nullopt, "s3cret"));
  EXPECT_FALSE(read_client_credentials(kShopBasic, "other", std::nullopt));
}

TEST(ClientAuth, SecretComparison) {
  EXPECT_TRUE(secret_matches("0123456789abcdef", "0123456789abcdef"));
  EXPECT_FALSE(secret_matches("0123456789abcdef", "0123456789abcdeF"));
  EXPECT_FALSE(secret_matches("0123456789abcdef", "0123456789abcde"));
  EXPECT_FALSE(secret_matches("0123456789abcdef", ""));
}

}  // namespace
}  // namespace waitroom::gate
