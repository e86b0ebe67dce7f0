#include "net/http_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

namespace waitroom::net {
namespace {

namespace urls = boost::urls;

constexpr unsigned kMaxPort = 65535;
constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;

}  // namespace

std::expected<HttpUrl, std::string> parse_http_url(std::string_view text) {
  auto parsed = urls::parse_uri(text);
  if (!parsed)
    return std::unexpected("not a valid absolute URL (" + parsed.error().message() + ")");
  const urls::url_view url = *parsed;
  HttpUrl u;
  if (url.scheme_id() == urls::scheme::https)
    u.tls = true;
  else if (url.scheme_id() != urls::scheme::http)
    return std::unexpected("must start with http:// or https://");
  if (!url.has_authority() || url.encoded_host().empty()) return std::unexpected("has no host");
  switch (url.host_type()) {
    case urls::host_type::name:
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      u.host_is_ip = true;
      break;
    default:
      return std::unexpected("host must be a name, IPv4 or IPv6 address");
  }
  u.host = url.host_address();
  u.port = u.tls ? kHttpsPort : kHttpPort;
  u.host_header = url.encoded_host();
  if (url.has_port() && !url.port().empty()) {
    // Parsed here: Boost.URL 1.81's port_number() wraps around above 65535 instead of failing.
    const std::string_view digits = url.port();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port < 1 || port > kMaxPort)
      return std::unexpected("port must be 1-65535");
    u.port = static_cast<std::uint16_t>(port);
    u.host_header += ":" + std::to_string(port);
  }
  u.target = url.encoded_target();
  if (u.target.empty() || u.target.front() != '/') u.target.insert(0, "/");
  u.has_userinfo = url.has_userinfo();
  if (u.has_userinfo) {
    u.user = url.user();
    u.password = url.password();
  }
  u.has_fragment = url.has_fragment();
  u.display = std::string(url.scheme()) + "://" + u.host_header + std::string(url.encoded_path());
  return u;
}

}  // namespace waitroom::net
