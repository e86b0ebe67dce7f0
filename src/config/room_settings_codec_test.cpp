#include "config/room_settings_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace waitroom::config {
namespace {

boost::json::object parse(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(RoomSettingsCodec, AppliesOnlyTheGivenFields) {
  core::RoomSettings base;
  base.issuer = "https://old";
  auto s = apply_room_settings(
      parse(R"({"pass_lifetime_s": 120, "aws_serving_counter_as_string": true})"), base);
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->pass_lifetime_s, 120);
  EXPECT_TRUE(s->aws_serving_counter_as_string);
  EXPECT_EQ(s->issuer, "https://old");
}

TEST(RoomSettingsCodec, RoundTripsThroughJson) {
  core::RoomSettings s;
  s.algorithm = "RS256";
  s.audience = "aud";
  s.target_url = "https://shop.example/";
  s.aws_serving_counter_as_string = true;
  s.renew_on_activity = true;
  s.pass_cookie = {"shop_pass", "example.com", "/shop", true, core::SameSite::strict};
  s.abuse.tickets_per_ip_per_minute = 7;
  s.abuse.polls_per_ip_per_second = 0;
  s.abuse.pow_difficulty_bits = 18;
  s.abuse.bind_pass = core::PassBinding::ip_prefix;
  s.abuse.max_waiting = 5000;
  s.abuse.trusted_proxies = {*core::parse_ip_network("10.0.0.0/8"),
                             *core::parse_ip_network("2001:db8::/32")};
  auto back = apply_room_settings(room_settings_to_json(s, Secrets::include), core::RoomSettings{});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
}

TEST(RoomSettingsCodec, AbuseMergesKeyByKeyAndNamesBadFields) {
  auto s = apply_room_settings(parse(R"({"abuse": {"max_waiting": 10, "bind_pass": "cookie"}})"),
                               core::RoomSettings{});
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->abuse.max_waiting, 10);
  EXPECT_EQ(s->abuse.bind_pass, core::PassBinding::cookie);
  EXPECT_EQ(s->abuse.tickets_per_ip_per_minute, 60);
  EXPECT_EQ(s->abuse.trusted_proxies, core::AbuseSettings::default_trusted_proxies());
  auto cleared = apply_room_settings(parse(R"({"abuse": {"max_waiting": null}})"), *s);
  ASSERT_TRUE(cleared);
  EXPECT_FALSE(cleared->abuse.max_waiting);
  for (const char* bad :
       {R"({"abuse": {"trusted_proxies": ["nope"]}})", R"({"abuse": {"pow_difficulty_bits": 40}})",
        R"({"abuse": []})", R"({"abuse": {"polls_per_ip_per_second": "5"}})"}) {
    auto r = apply_room_settings(parse(bad), core::RoomSettings{});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().detail.find("abuse"), std::string::npos) << r.error().detail;
  }
}

TEST(RoomSettingsCodec, PassCookieMergesKeyByKeyAndNullSecureFollowsTheServer) {
  core::RoomSettings base;
  base.pass_cookie.name = "kept";
  auto s = apply_room_settings(parse(R"({"pass_cookie": {"path": "/a", "secure": true}})"), base);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pass_cookie.name, "kept");
  EXPECT_EQ(s->pass_cookie.path, "/a");
  EXPECT_EQ(s->pass_cookie.secure, true);
  s = apply_room_settings(parse(R"({"pass_cookie": {"secure": null}})"), *s);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->pass_cookie.secure.has_value());
}

TEST(RoomSettingsCodec, RefusesUnknownFieldsAndWrongTypes) {
  for (const char* body :
       {R"({"colour": 1})", R"({"pass_lifetime_s": "900"})", R"({"issuer": 5})",
        R"({"aws_serving_counter_as_string": "yes"})", R"({"pass_lifetime_s": 1.5})"}) {
    auto s = apply_room_settings(parse(body), core::RoomSettings{});
    EXPECT_FALSE(s) << body;
  }
}

}  // namespace
}  // namespace waitroom::config

namespace waitroom::config {
namespace {

constexpr std::string_view kOidc = R"({"oidc": {"clients": [
  {"client_id": "shop", "client_secret": "0123456789abcdef-secret", "redirect_uris": ["https://shop.example/cb"]},
  {"client_id": "app", "public": true, "redirect_uris": ["http://127.0.0.1:7000/cb"]}]}})";

TEST(RoomSettingsCodec, OidcClientsRoundTripWithSecretsOnlyWhenAsked) {
  auto s = apply_room_settings(parse(kOidc), core::RoomSettings{});
  ASSERT_TRUE(s) << s.error().detail;
  ASSERT_EQ(s->oidc.clients.size(), 2u);
  EXPECT_FALSE(s->oidc.clients[0].is_public);
  EXPECT_TRUE(s->oidc.clients[1].is_public);
  auto back =
      apply_room_settings(room_settings_to_json(*s, Secrets::include), core::RoomSettings{});
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, *s);
  const auto redacted = boost::json::serialize(room_settings_to_json(*s, Secrets::redact));
  EXPECT_EQ(redacted.find("0123456789abcdef-secret"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("client_secret"), std::string::npos) << redacted;
}

TEST(RoomSettingsCodec, ARedactedViewPutBackKeepsTheSecret) {
  auto s = apply_room_settings(parse(kOidc), core::RoomSettings{});
  ASSERT_TRUE(s);
  auto again = apply_room_settings(room_settings_to_json(*s, Secrets::redact), *s);
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(again->oidc.clients[0].client_secret, "0123456789abcdef-secret");
  // ...but a new client, or one that was public, must bring its own.
  auto fresh =
      apply_room_settings(room_settings_to_json(*s, Secrets::redact), core::RoomSettings{});
  ASSERT_FALSE(fresh);
  EXPECT_NE(fresh.error().detail.find("oidc.clients[0].client_secret"), std::string::npos)
      << fresh.error().detail;
}

TEST(RoomSettingsCodec, InvitationsJwksUrlIsShownAndReplacedWithTheKeys) {
  auto s = apply_room_settings(parse(R"({"invite_only": true,
                "invitations": {"jwks_url": "https://shop.example/.well-known/jwks.json"}})"),
                               core::RoomSettings{});
  ASSERT_TRUE(s) << s.error().detail;
  EXPECT_EQ(s->invitations.jwks_url, "https://shop.example/.well-known/jwks.json");
  EXPECT_TRUE(s->invitations.invite_only);
  const auto shown = room_settings_to_json(*s, Secrets::redact);
  EXPECT_EQ(shown.at("invitations").as_object().at("jwks_url").as_string(),
            "https://shop.example/.well-known/jwks.json");
  auto back =
      apply_room_settings(room_settings_to_json(*s, Secrets::include), core::RoomSettings{});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *s);
  // "invitations" is replaced as a whole: without jwks_url there is none, and invite_only then
  // has nothing to check invitations with.
  EXPECT_FALSE(apply_room_settings(parse(R"({"invitations": {"keys": []}})"), *s));
  s->invitations.invite_only = false;
  auto cleared = apply_room_settings(parse(R"({"invitations": {"keys": []}})"), *s);
  ASSERT_TRUE(cleared) << cleared.error().detail;
  EXPECT_EQ(cleared->invitations.jwks_url, "");
  EXPECT_FALSE(room_settings_to_json(*cleared, Secrets::redact)
                   .at("invitations")
                   .as_object()
                   .contains("jwks_url"));
}

TEST(RoomSettingsCodec, InvitationsJwksUrlIsHttpsOrLoopback) {
  for (const char* good : {"https://shop.example/jwks.json", "http://127.0.0.1:8080/jwks.json",
                           "http://localhost/jwks", "http://[::1]:9/j"}) {
    auto s = apply_room_settings(boost::json::object{{"invitations", {{"jwks_url", good}}}},
                                 core::RoomSettings{});
    EXPECT_TRUE(s) << good << ": " << s.error().detail;
  }
  for (const char* bad : {"http://shop.example/jwks.json", "shop.example/jwks.json",
                          "https://user@shop.example/jwks", "ftp://shop.example/jwks"}) {
    auto s = apply_room_settings(boost::json::object{{"invitations", {{"jwks_url", bad}}}},
                                 core::RoomSettings{});
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.error().detail.find("invitations.jwks_url"), std::string::npos) << s.error().detail;
  }
  EXPECT_FALSE(apply_room_settings(parse(R"({"invitations": {"jwks_url": 1}})"), {}));
}

TEST(RoomSettingsCodec, RefusesBadOidcFields) {
  for (
      const char* body :
      {R"({"oidc": []})", R"({"oidc": {"client": []}})", R"({"oidc": {"clients": {}}})",
       R"({"oidc": {"clients": [{"redirect_uris": ["https://a.example/"]}]}})",
       R"({"oidc": {"clients": [{"client_id": "a", "public": true}]}})",
       R"({"oidc": {"clients": [{"client_id": "a", "public": "no", "redirect_uris": []}]}})",
       R"({"oidc": {"clients": [{"client_id": "a", "public": true, "redirect_uris": [1]}]}})",
       R"({"oidc": {"clients": [{"client_id": "a", "public": true, "colour": 1, "redirect_uris": []}]}})"}) {
    auto s = apply_room_settings(parse(body), core::RoomSettings{});
    EXPECT_FALSE(s) << body;
    if (!s) {
      EXPECT_NE(s.error().detail.find("oidc"), std::string::npos) << s.error().detail;
    }
  }
}

}  // namespace
}  // namespace waitroom::config
