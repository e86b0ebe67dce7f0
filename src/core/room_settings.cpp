#include "core/room_settings.hpp"

#include <string>

namespace waitroom::core {

namespace {
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

constexpr std::size_t kMaxTextSettingLength = 2048;
}  // namespace

bool is_valid_room_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxRoomNameLength) return false;
  if (name[0] == '_' || name[0] == '-') return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

Result<void> validate(const RoomSettings& s) {
  if (s.pass_lifetime_s < kMinPassLifetimeS || s.pass_lifetime_s > kMaxPassLifetimeS)
    return fail(ErrorCode::bad_request, "pass_lifetime_s must be between " +
                                            std::to_string(kMinPassLifetimeS) + " and " +
                                            std::to_string(kMaxPassLifetimeS) + " seconds");
  if (s.algorithm != "ES256" && s.algorithm != "RS256")
    return fail(ErrorCode::bad_request, "algorithm must be \"ES256\" or \"RS256\"");
  if (s.issuer.empty() || s.issuer.size() > kMaxTextSettingLength)
    return fail(ErrorCode::bad_request, "issuer must be a non-empty string of at most 2048 bytes");
  if (s.audience.size() > kMaxTextSettingLength)
    return fail(ErrorCode::bad_request, "audience must be at most 2048 bytes");
  if (!s.target_url.empty() &&
      (s.target_url.size() > kMaxTextSettingLength ||
       !(starts_with(s.target_url, "http://") || starts_with(s.target_url, "https://"))))
    return fail(ErrorCode::bad_request, "target_url must be an http:// or https:// URL");
  return {};
}

}  // namespace waitroom::core
