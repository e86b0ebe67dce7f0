#pragma once
// A room's operator-chosen settings. Later features add fields here; the JSON/TOML codec in
// config/room_settings_codec.* is the one place that reads and writes them.
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace waitroom::core {

inline constexpr std::int64_t kDefaultPassLifetimeS = 900;
inline constexpr std::int64_t kMinPassLifetimeS = 60;
inline constexpr std::int64_t kMaxPassLifetimeS = 7 * 24 * 3600;
inline constexpr std::size_t kMaxRoomNameLength = 64;

struct RoomSettings {
  std::int64_t pass_lifetime_s = kDefaultPassLifetimeS;
  std::string algorithm = "ES256";  // "ES256" or "RS256"
  std::string issuer = "waitroom";
  std::string audience;  // empty: the room's name
  std::string target_url;
  // AWS compatibility: /aws/serving_num sends serving_counter as a JSON string, as AWS's Redis
  // read did, for old clients that expect one. Off: a number.
  bool aws_serving_counter_as_string = false;

  bool operator==(const RoomSettings&) const = default;
};

// Room names appear in URLs, cookie names and metrics labels: [A-Za-z0-9][A-Za-z0-9_-]{0,63}.
bool is_valid_room_name(std::string_view name);

// Checks ranges and formats; the message names the offending field.
Result<void> validate(const RoomSettings& settings);

}  // namespace waitroom::core
