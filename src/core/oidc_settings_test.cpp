#include "core/oidc_settings.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

OidcClient confidential() {
  return OidcClient{"shop", "0123456789abcdef-secret", {"https://shop.example/callback"}, false};
}

TEST(OidcSettings, AcceptsConfidentialAndPublicClients) {
  OidcSettings s{{confidential(), OidcClient{"app", "", {"http://127.0.0.1:7000/cb"}, true}}};
  EXPECT_TRUE(validate(s));
  EXPECT_EQ(s.find("app"), &s.clients[1]);
  EXPECT_EQ(s.find("nope"), nullptr);
}

TEST(OidcSettings, NamesTheBadField) {
  auto expect_error = [](OidcSettings s, std::string_view field) {
    auto r = validate(s);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find(field), std::string::npos) << r.error().detail;
  };
  OidcClient c = confidential();
  c.client_id = "";
  expect_error({{c}}, "oidc.clients[0].client_id");
  expect_error({{confidential(), confidential()}}, "oidc.clients[1].client_id");
  c = confidential();
  c.client_secret = "short";
  expect_error({{c}}, "oidc.clients[0].client_secret");
  c.client_secret = "";
  expect_error({{c}}, "oidc.clients[0].client_secret");
  c = confidential();
  c.is_public = true;  // with a secret
  expect_error({{c}}, "oidc.clients[0].client_secret");
  c = confidential();
  c.redirect_uris = {};
  expect_error({{c}}, "oidc.clients[0].redirect_uris");
  c.redirect_uris = {"https://ok.example/cb", "http://shop.example/cb"};
  expect_error({{c}}, "oidc.clients[0].redirect_uris[1]");
}

}  // namespace
}  // namespace waitroom::core
