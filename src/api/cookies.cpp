#include "api/cookies.hpp"

namespace waitroom::api {

std::string ticket_cookie_name(std::string_view room) { return "waitroom_" + std::string(room); }

std::string pass_cookie_name(std::string_view room) { return "waitroom_pass_" + std::string(room); }

std::string set_cookie(std::string_view name, std::string_view value, bool secure, long long max_age_s) {
  std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Lax";
  if (max_age_s > 0) c += "; Max-Age=" + std::to_string(max_age_s);
  if (secure) c += "; Secure";
  return c;
}

}  // namespace waitroom::api
