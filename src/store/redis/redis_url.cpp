#include "store/redis/redis_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace waitroom::store::redis {

namespace {

constexpr std::string_view kPlainScheme = "redis://";
constexpr std::string_view kTlsScheme = "rediss://";

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char p, char t) {
           return p == std::tolower(static_cast<unsigned char>(t));
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%41" -> "A"; nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Host names and IPv4 addresses: letters, digits, '-', '.', '_' (what DNS and /etc/hosts use).
bool is_host_name(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

bool is_ipv6_text(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  });
}

template <class Int>
std::optional<Int> parse_decimal(std::string_view text) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The user information before the last '@' of `authority` (an unencoded '@' in a password still
// parses); `authority` keeps what follows it.
core::Result<void> parse_userinfo(std::string_view& authority, RedisUrl& out) {
  using core::ErrorCode;
  using core::fail;
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos)
      return fail(ErrorCode::bad_request,
                  "the Redis URL has user information without ':'; write the password as "
                  ":password@ (or user:password@ with an ACL user)");
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user)
      return fail(ErrorCode::bad_request,
                  "the Redis URL's user name has a '%' not followed by two hex digits");
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!password)
      return fail(ErrorCode::bad_request,
                  "the Redis URL's password has a '%' not followed by two hex digits "
                  "(write a literal '%' as %25)");
    out.username = std::move(*user);
    out.password = std::move(*password);
  }

  return {};
}

// host[:port] or [IPv6][:port].
core::Result<void> parse_host_port(std::string_view authority, RedisUrl& out) {
  using core::ErrorCode;
  using core::fail;
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return fail(ErrorCode::bad_request, "the Redis URL's IPv6 address lacks its closing ']'");
    host = authority.substr(1, close - 1);
    if (!is_ipv6_text(host))
      return fail(ErrorCode::bad_request,
                  "\"" + std::string(host) + "\" in [...] is not an IPv6 address");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail(ErrorCode::bad_request, "the Redis URL has text after the IPv6 address's ']'");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != authority.rfind(':'))
      return fail(ErrorCode::bad_request,
                  "\"" + std::string(authority) +
                      "\" has more than one ':'; an IPv6 address goes in brackets: "
                      "redis://[::1]:6379");
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!is_host_name(host))
      return fail(ErrorCode::bad_request,
                  "\"" + std::string(host) +
                      "\" is not a host name or address (an IPv6 address goes in brackets: "
                      "redis://[::1]:6379)");
  }
  if (!host.empty()) out.host = std::string(host);
  if (has_port) {
    const auto p = parse_decimal<unsigned>(port);
    if (!p || *p == 0 || *p > 65535)
      return fail(ErrorCode::bad_request,
                  "the Redis URL's port \"" + std::string(port) + "\" is not a number 1-65535");
    out.port = static_cast<std::uint16_t>(*p);
  }

  return {};
}

}  // namespace

core::Result<RedisUrl> parse_redis_url(std::string_view url) {
  using core::ErrorCode;
  using core::fail;
  RedisUrl out;
  std::string_view rest;
  if (starts_with_nocase(url, kTlsScheme)) {
    out.tls = true;
    rest = url.substr(kTlsScheme.size());
  } else if (starts_with_nocase(url, kPlainScheme)) {
    rest = url.substr(kPlainScheme.size());
  } else {
    return fail(ErrorCode::bad_request,
                "a Redis URL starts with redis:// (or rediss:// for TLS), as in "
                "redis://:password@host:6379/0");
  }
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail(ErrorCode::bad_request,
                "a Redis URL takes no query or fragment ('?' or '#'); percent-encode them in a "
                "password (%3F, %23)");

  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  if (auto user = parse_userinfo(authority, out); !user) return std::unexpected(user.error());
  for (std::string_view rest_of = authority;;) {
    const std::size_t comma = rest_of.find(',');
    if (comma == 0 || (rest_of.empty() && !out.seeds.empty()))
      return fail(ErrorCode::bad_request,
                  "the Redis URL's node list has an empty entry; write host:port,host:port");
    RedisUrl node;
    if (auto hp = parse_host_port(rest_of.substr(0, comma), node); !hp)
      return std::unexpected(hp.error());
    out.seeds.push_back(RedisEndpoint{node.host, node.port});
    if (comma == std::string_view::npos) break;
    rest_of.remove_prefix(comma + 1);
  }
  out.host = out.seeds.front().host;
  out.port = out.seeds.front().port;

  if (!path.empty()) {
    const auto db = parse_decimal<int>(path);
    if (!db || *db < 0)
      return fail(ErrorCode::bad_request, "the Redis URL's database \"/" + std::string(path) +
                                              "\" is not a number 0 or more, as in /0");
    out.db = *db;
  }
  return out;
}

std::string redacted(const RedisUrl& url) {
  std::string out = url.tls ? "rediss://" : "redis://";
  if (!url.username.empty() || !url.password.empty()) {
    out += url.username;
    out += url.password.empty() ? ":@" : ":***@";
  }
  if (url.seeds.size() < 2) {
    out += endpoint_text(RedisEndpoint{url.host, url.port});
  } else {
    for (std::size_t i = 0; i < url.seeds.size(); ++i)
      out.append(i ? "," : "").append(endpoint_text(url.seeds[i]));
  }
  out += "/" + std::to_string(url.db);
  return out;
}

std::string endpoint_text(const RedisEndpoint& endpoint) {
  const bool ipv6 = endpoint.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" + std::to_string(endpoint.port);
}

}  // namespace waitroom::store::redis
