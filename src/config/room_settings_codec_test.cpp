#include "config/room_settings_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace waitroom::config {
namespace {

boost::json::object parse(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(RoomSettingsCodec, AppliesOnlyTheGivenFields) {
  core::RoomSettings base;
  base.issuer = "https://old";
  auto s = apply_room_settings(parse(R"({"pass_lifetime_s": 120, "aws_serving_counter_as_string": true})"), base);
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
  auto back = apply_room_settings(room_settings_to_json(s), core::RoomSettings{});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
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
  for (const char* body : {R"({"colour": 1})", R"({"pass_lifetime_s": "900"})", R"({"issuer": 5})",
                           R"({"aws_serving_counter_as_string": "yes"})", R"({"pass_lifetime_s": 1.5})"}) {
    auto s = apply_room_settings(parse(body), core::RoomSettings{});
    EXPECT_FALSE(s) << body;
  }
}

}  // namespace
}  // namespace waitroom::config
