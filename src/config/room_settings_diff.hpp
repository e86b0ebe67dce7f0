#pragma once
// What differs between two versions of a room's settings, one entry per setting, for the log
// lines a config reload writes ("the file changes admission.rate_per_minute from 600 to 1200").
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "core/room_settings.hpp"

namespace waitroom::config {

struct SettingChange {
  std::string setting;  // dotted, as in the config file: "admission.rate_per_minute"
  boost::json::value from;
  boost::json::value to;
};

// Compares the settings as the admin API shows them, key by key down to single values; lists
// (events, oidc.clients, abuse.trusted_proxies) compare whole. Client secrets never appear: a
// changed secret shows as "(hidden)" on both sides.
std::vector<SettingChange> diff_room_settings(const core::RoomSettings& from,
                                              const core::RoomSettings& to);

}  // namespace waitroom::config
