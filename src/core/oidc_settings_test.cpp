#include "core/oidc_settings.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

OidcClient confidential() {
  return OidcClient{"shop", "0123456789abcdef-secret", {"https://shop.example/callback"}, false};
}

TEST(OidcSettings, RedirectUris) {
  for (const char* good : {"https://shop.example/callback", "https://shop.example:8443/cb?tenant=a",
                           "https://shop.example", "http://localhost:4180/oauth2/callback",
                           "http://127.0.0.1:9/cb", "http://[::1]:8080/cb", "http://127.10.0.3/cb"})
    EXPECT_TRUE(is_valid_redirect_uri(good)) << good;
  for (const char* bad :
       {"", "/callback", "shop.example/cb", "https://shop.example/cb#frag",
        "http://shop.example/cb",  // plain http off loopback
        "http://127.0.0.1.evil.example/cb", "http://localhost.evil.example/cb",
        "http://127.0.0.256/cb", "https://user@shop.example/cb", "https:///cb",
        "https://shop.example:port/cb", "https://shop.example/a b", "javascript:alert(1)",
        "ftp://shop.example/", "https://shop.example\\@evil/"})
    EXPECT_FALSE(is_valid_redirect_uri(bad)) << bad;
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
