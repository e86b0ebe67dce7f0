#include "config/room_settings_diff.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace waitroom::config {
namespace {

TEST(RoomSettingsDiff, EqualSettingsHaveNoChanges) {
  EXPECT_TRUE(diff_room_settings(core::RoomSettings{}, core::RoomSettings{}).empty());
}

TEST(RoomSettingsDiff, NamesEachChangedValueByItsDottedKey) {
  core::RoomSettings a;
  a.admission.mode = core::AdmissionMode::rate;
  a.admission.rate_per_minute = 600;
  core::RoomSettings b = a;
  b.admission.rate_per_minute = 1200;
  b.pass_lifetime_s = 120;
  const auto changes = diff_room_settings(a, b);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].setting, "pass_lifetime_s");
  EXPECT_EQ(changes[0].from, boost::json::value(900));
  EXPECT_EQ(changes[0].to, boost::json::value(120));
  EXPECT_EQ(changes[1].setting, "admission.rate_per_minute");
  EXPECT_EQ(changes[1].from, boost::json::value(600));
  EXPECT_EQ(changes[1].to, boost::json::value(1200));
}

TEST(RoomSettingsDiff, NeverShowsAClientSecret) {
  core::RoomSettings a;
  core::OidcClient client;
  client.client_id = "shop";
  client.client_secret = "old-secret-value";
  client.redirect_uris = {"https://shop.example/cb"};
  a.oidc.clients.push_back(client);
  core::RoomSettings b = a;
  b.oidc.clients[0].client_secret = "new-secret-value";
  const auto changes = diff_room_settings(a, b);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].setting, "oidc.clients");
  const std::string text =
      boost::json::serialize(changes[0].from) + boost::json::serialize(changes[0].to);
  EXPECT_EQ(text.find("secret-value"), std::string::npos) << text;
  b.oidc.clients[0].redirect_uris = {"https://shop.example/other"};
  const auto more = diff_room_settings(a, b);
  ASSERT_EQ(more.size(), 1u);
  const std::string shown = boost::json::serialize(more[0].to);
  EXPECT_NE(shown.find("other"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("secret-value"), std::string::npos) << shown;
}

}  // namespace
}  // namespace waitroom::config
