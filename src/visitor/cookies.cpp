#include "visitor/cookies.hpp"

namespace waitroom::visitor {

namespace {

std::string cookie(std::string_view name, std::string_view value, std::string_view path,
                   std::string_view domain, core::SameSite same_site, bool secure,
                   long long max_age_s) {
  std::string c = std::string(name) + "=" + std::string(value) + "; Path=" + std::string(path);
  if (!domain.empty()) c += "; Domain=" + std::string(domain);
  c += "; HttpOnly; SameSite=" + std::string(core::to_string(same_site));
  if (max_age_s > 0) c += "; Max-Age=" + std::to_string(max_age_s);
  if (secure) c += "; Secure";
  return c;
}

}  // namespace

std::string ticket_cookie_name(std::string_view room) { return "waitroom_" + std::string(room); }

std::string pass_cookie_name(std::string_view room, const core::PassCookie& c) {
  return c.name.empty() ? "waitroom_pass_" + std::string(room) : c.name;
}

std::string set_cookie(std::string_view name, std::string_view value, bool secure,
                       long long max_age_s) {
  return cookie(name, value, "/", "", core::SameSite::lax, secure, max_age_s);
}

std::string set_pass_cookie(std::string_view room, const core::PassCookie& c, std::string_view pass,
                            bool server_secure, long long max_age_s) {
  return cookie(pass_cookie_name(room, c), pass, c.path, c.domain, c.same_site,
                c.secure.value_or(server_secure), max_age_s);
}

}  // namespace waitroom::visitor
