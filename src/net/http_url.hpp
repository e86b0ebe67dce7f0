#pragma once
// An http:// or https:// URL that Waitroom itself calls (webhook receivers, a JWKS endpoint),
// taken apart once into what a connection and its requests need.
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace waitroom::net {

struct HttpUrl {
  bool tls = false;
  std::string host;         // decoded; IPv6 without brackets: for the resolver and the cert
  bool host_is_ip = false;  // IP literals get no SNI (RFC 6066 section 3)
  std::uint16_t port = 0;   // explicit, or 80/443
  std::string host_header;  // host[:port] as written in the URL
  std::string target;       // path and query, at least "/"
  bool has_userinfo = false;
  std::string user;      // decoded userinfo, when has_userinfo
  std::string password;  // decoded userinfo, when has_userinfo
  bool has_fragment = false;
  std::string display;  // for logs and metrics: scheme://host[:port]/path (no userinfo, no query)
};

// The reasons read as the rest of a sentence that starts with the field's name, e.g. "url: has
// no host", "url: port must be 1-65535".
std::expected<HttpUrl, std::string> parse_http_url(std::string_view text);

}  // namespace waitroom::net
