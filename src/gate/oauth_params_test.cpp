#include "gate/oauth_params.hpp"

#include <gtest/gtest.h>

namespace waitroom::gate {
namespace {

TEST(OAuthParams, DecodesValues) {
  auto p = OAuthParams::parse(
      "client_id=shop&redirect_uri=https%3A%2F%2Fshop.example%2Fcb&scope=openid+email");
  ASSERT_TRUE(p) << p.error().detail;
  EXPECT_EQ(p->get("client_id"), "shop");
  EXPECT_EQ(p->get("redirect_uri"), "https://shop.example/cb");
  EXPECT_EQ(p->get("scope"), "openid email");
  EXPECT_FALSE(p->get("state"));
}

TEST(OAuthParams, EmptyValuesCountAsAbsent) {
  auto p = OAuthParams::parse("state=&nonce&&code=x");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->has("state"));
  EXPECT_FALSE(p->has("nonce"));
  EXPECT_EQ(p->get("code"), "x");
}

TEST(OAuthParams, RefusesDuplicatesAndBrokenEscapes) {
  auto dup = OAuthParams::parse("redirect_uri=a&client_id=x&redirect_uri=b");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().detail.find("redirect_uri"), std::string::npos);
  // The same name spelled with an escape is still the same parameter.
  EXPECT_FALSE(OAuthParams::parse("code=a&c%6Fde=b"));
  EXPECT_FALSE(OAuthParams::parse("code=%zz"));
  // An empty duplicate is absent, so not a duplicate.
  EXPECT_TRUE(OAuthParams::parse("code=a&code="));
}

}  // namespace
}  // namespace waitroom::gate
