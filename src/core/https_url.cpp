#include "core/https_url.hpp"

#include <string>

#include "core/printable.hpp"

namespace waitroom::core {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8 written as four decimal parts.
  if (!starts_with(host, "127.")) return false;
  int parts = 0;
  while (!host.empty()) {
    const auto dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    if (!is_digits(part) || part.size() > 3 || std::stoi(std::string(part)) > 255) return false;
    ++parts;
    host = dot == std::string_view::npos ? std::string_view{} : host.substr(dot + 1);
  }
  return parts == 4;
}

}  // namespace

bool is_https_or_loopback_url(std::string_view uri) {
  if (uri.empty() || uri.size() > kMaxHttpsUrlBytes || !is_printable_ascii(uri)) return false;
  if (uri.find('#') != std::string_view::npos || uri.find('\\') != std::string_view::npos)
    return false;
  const bool https = starts_with(uri, "https://");
  if (!https && !starts_with(uri, "http://")) return false;
  const std::string_view rest = uri.substr(https ? 8 : 7);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || !is_digits(port = after.substr(1))))
      return false;
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!is_digits(port)) return false;
  }
  if (host.empty() || port.size() > 5) return false;
  return https || is_loopback_host(host);
}

}  // namespace waitroom::core
