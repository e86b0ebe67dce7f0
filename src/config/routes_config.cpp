#include "config/routes_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/room_settings.hpp"

namespace waitroom::config {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::int64_t kMaxConnectTimeoutS = 3600;
constexpr std::int64_t kMaxResponseTimeoutS = 86400;
constexpr std::size_t kMaxPathBytes = 2048;
constexpr std::size_t kMaxHostBytes = 253;  // the longest DNS name
constexpr std::string_view kKindKeys[] = {"path_prefix", "path_regex", "cidr",
                                          "header",      "cookie",     "crawlers"};

template <class T>
core::Result<T> bad(const std::string& key, std::string why) {
  return fail(ErrorCode::bad_request, "config: " + key + ": " + why);
}

bool is_dns_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

// RFC 9110 token characters: what a header or cookie name may be made of.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// A host name, an IPv4 address, or an IPv6 address in brackets; lower-cased.
core::Result<std::string> parse_host(std::string_view text, const std::string& key) {
  std::string host(text);
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    unsigned char addr[16];
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), addr) == 1) return host;
    return bad<std::string>(key,
                            "\"" + std::string(text) + "\" is not an IPv6 address in brackets");
  }
  if (host.empty() || host.size() > kMaxHostBytes ||
      !std::all_of(host.begin(), host.end(), is_dns_char))
    return bad<std::string>(
        key,
        "must be a host name or IP address without scheme or port, such as \"shop.example.com\"");
  return host;
}

// True when a segment of `path` is "." or ".."; such paths could climb out of a prefix.
bool has_dot_segment(std::string_view path) {
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const auto end = std::min(path.find('/', begin), path.size());
    const std::string_view seg = path.substr(begin, end - begin);
    if (seg == "." || seg == "..") return true;
    begin = end + 1;
  }
  return false;
}

core::Result<std::string> parse_path_prefix(const toml::node& node, const std::string& key) {
  auto p = node.value<std::string>();
  if (!p || p->empty() || p->front() != '/' || p->size() > kMaxPathBytes ||
      std::any_of(p->begin(), p->end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == '?' || c == '#' || c == 0x7f;
      }))
    return bad<std::string>(
        key, "must be a path starting with '/', without spaces, '?' or '#', such as \"/shop/\"");
  if (has_dot_segment(*p))
    return bad<std::string>(key, "must not contain \".\" or \"..\" segments");
  return *p;
}

core::Result<void> parse_upstream(const toml::node& node, const std::string& key,
                                  ProxyRoute& route) {
  auto text = node.value<std::string>();
  if (!text) return bad<void>(key, "must be a string such as \"http://127.0.0.1:3000\"");
  std::string_view url = *text;
  constexpr std::string_view kHttp = "http://";
  if (url.starts_with("https://"))
    return bad<void>(
        key,
        "https upstreams are not supported: the proxy speaks plain http to the upstream "
        "(keep it on a private network or loopback)");
  if (!url.starts_with(kHttp))
    return bad<void>(key, "must be http://HOST[:PORT][/PATH], such as \"http://127.0.0.1:3000\"");
  url.remove_prefix(kHttp.size());
  const auto path_at = std::min(url.find_first_of("/?#"), url.size());
  std::string_view authority = url.substr(0, path_at);
  std::string_view path = url.substr(path_at);
  if (authority.find('@') != std::string_view::npos)
    return bad<void>(key, "must not contain user info ('@')");
  if (!path.empty() && path.front() != '/')
    return bad<void>(key, "must not have a query or fragment");
  if (path.find_first_of("?# ") != std::string_view::npos)
    return bad<void>(key, "must not have a query, fragment or spaces");
  if (has_dot_segment(path))
    return bad<void>(key, "the path must not contain \".\" or \"..\" segments");
  std::string_view host = authority, port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad<void>(key, "an IPv6 host needs its closing ']'");
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return bad<void>(key, "expected ':PORT' after the IPv6 host");
    if (!rest.empty()) port_text = rest.substr(1);
    if (rest == ":") return bad<void>(key, "the port is empty");
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
    if (port_text.empty()) return bad<void>(key, "the port is empty");
  }
  auto parsed_host = parse_host(host, key);
  if (!parsed_host) return std::unexpected(parsed_host.error());
  unsigned port = 80;
  if (!port_text.empty()) {
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return bad<void>(key, "the port must be 1-65535");
  }
  route.upstream = *text;
  // Brackets are URL syntax; the resolver wants the bare IPv6 address.
  route.upstream_host =
      parsed_host->front() == '[' ? parsed_host->substr(1, parsed_host->size() - 2) : *parsed_host;
  route.upstream_port = static_cast<std::uint16_t>(port);
  std::string base(path);
  while (!base.empty() && base.back() == '/') base.pop_back();
  route.upstream_base_path = std::move(base);
  return {};
}

core::Result<void> read_timeout(const toml::node& node, const std::string& key, std::int64_t max,
                                std::int64_t& out) {
  auto v = node.value<std::int64_t>();
  if (!v || !node.is_integer() || *v < 1 || *v > max)
    return bad<void>(key, "must be an integer between 1 and " + std::to_string(max));
  out = *v;
  return {};
}

core::Result<BypassRule> parse_bypass_rule(const toml::node& node, const std::string& key) {
  const toml::table* t = node.as_table();
  if (!t) return bad<BypassRule>(key, "must be a table such as { path_prefix = \"/static/\" }");
  BypassRule rule;
  std::string_view kind;
  for (const auto& [k, v] : *t) {
    const std::string_view name = k.str();
    if (name == "value") continue;
    if (std::find(std::begin(kKindKeys), std::end(kKindKeys), name) == std::end(kKindKeys))
      return bad<BypassRule>(key + "." + std::string(name),
                             "unknown key (a rule is one of path_prefix, path_regex, "
                             "cidr, header + value, cookie + value, crawlers = true)");
    if (!kind.empty())
      return bad<BypassRule>(
          key, "one rule per table: both " + std::string(kind) + " and " + std::string(name));
    kind = name;
  }
  if (kind.empty())
    return bad<BypassRule>(key,
                           "needs one of path_prefix, path_regex, cidr, header, cookie, crawlers");
  const std::string kind_key = key + "." + std::string(kind);
  const toml::node& v = *t->get(kind);
  const bool named = kind == "header" || kind == "cookie";
  if (t->contains("value") && !named)
    return bad<BypassRule>(key + ".value", "only header and cookie rules take a value");
  if (kind == "path_prefix") {
    auto p = parse_path_prefix(v, kind_key);
    if (!p) return std::unexpected(p.error());
    rule.kind = BypassKind::path_prefix;
    rule.name = std::move(*p);
  } else if (kind == "path_regex") {
    auto re = v.value<std::string>();
    if (!re || re->empty())
      return bad<BypassRule>(kind_key, "must be a non-empty RE2 regular expression");
    rule.kind = BypassKind::path_regex;
    rule.name = std::move(*re);
  } else if (kind == "cidr") {
    auto text = v.value<std::string>();
    if (!text) return bad<BypassRule>(kind_key, "must be a string such as \"10.0.0.0/8\"");
    auto cidr = parse_cidr(*text);
    if (!cidr) return bad<BypassRule>(kind_key, cidr.error().detail);
    rule.kind = BypassKind::cidr;
    rule.name = *text;
    rule.cidr = *cidr;
  } else if (named) {
    auto name = v.value<std::string>();
    if (!name || !is_token(*name))
      return bad<BypassRule>(kind_key, "must be a " + std::string(kind) + " name");
    const toml::node* value = t->get("value");
    auto text = value ? value->value<std::string>() : std::nullopt;
    if (!text || text->empty())
      return bad<BypassRule>(key + ".value", "a " + std::string(kind) +
                                                 " rule needs a non-empty value to compare with");
    rule.kind = kind == "header" ? BypassKind::header : BypassKind::cookie;
    rule.name = std::move(*name);
    rule.value = std::move(*text);
  } else {
    auto on = v.value<bool>();
    if (!on || !*on)
      return bad<BypassRule>(kind_key, "must be true (leave the rule out to turn it off)");
    rule.kind = BypassKind::crawlers;
  }
  return rule;
}

core::Result<ProxyRoute> parse_route(const toml::node& node, const std::string& key) {
  const toml::table* t = node.as_table();
  if (!t) return bad<ProxyRoute>(key, "must be a table ([[routes]])");
  ProxyRoute route;
  for (const auto& [k, v] : *t) {
    const std::string name(k.str());
    const std::string sub = key + "." + name;
    core::Result<void> r;
    if (name == "host") {
      auto h = v.value<std::string>();
      if (!h) return bad<ProxyRoute>(sub, "must be a string");
      if (!h->empty()) {
        auto host = parse_host(*h, sub);
        if (!host) return std::unexpected(host.error());
        route.host = std::move(*host);
      }
    } else if (name == "path_prefix") {
      auto p = parse_path_prefix(v, sub);
      if (!p) return std::unexpected(p.error());
      route.path_prefix = std::move(*p);
    } else if (name == "upstream") {
      r = parse_upstream(v, sub, route);
    } else if (name == "room") {
      auto room = v.value<std::string>();
      if (!room || !core::is_valid_room_name(*room))
        return bad<ProxyRoute>(
            sub, "must be a room name (1-64 of A-Z a-z 0-9 _ -, not starting with _ or -)");
      route.room = std::move(*room);
    } else if (name == "connect_timeout_s") {
      r = read_timeout(v, sub, kMaxConnectTimeoutS, route.connect_timeout_s);
    } else if (name == "response_timeout_s") {
      r = read_timeout(v, sub, kMaxResponseTimeoutS, route.response_timeout_s);
    } else if (name == "bypass") {
      const toml::array* rules = v.as_array();
      if (!rules)
        return bad<ProxyRoute>(
            sub, "must be an array of rule tables, such as [ { path_prefix = \"/static/\" } ]");
      for (std::size_t i = 0; i < rules->size(); ++i) {
        auto rule = parse_bypass_rule(*rules->get(i), sub + "[" + std::to_string(i) + "]");
        if (!rule) return std::unexpected(rule.error());
        route.bypass.push_back(std::move(*rule));
      }
    } else {
      r = bad<void>(sub, "unknown key");
    }
    if (!r) return std::unexpected(r.error());
  }
  if (route.upstream.empty())
    return bad<ProxyRoute>(key + ".upstream", "is required, such as \"http://127.0.0.1:3000\"");
  if (route.room.empty())
    return bad<ProxyRoute>(key + ".room", "is required: the room whose pass this route asks for");
  return route;
}

}  // namespace

std::string route_key(std::size_t index) { return "routes[" + std::to_string(index) + "]"; }

std::string_view bypass_kind_name(BypassKind kind) {
  switch (kind) {
    case BypassKind::path_prefix:
      return "path_prefix";
    case BypassKind::path_regex:
      return "path_regex";
    case BypassKind::cidr:
      return "cidr";
    case BypassKind::header:
      return "header";
    case BypassKind::cookie:
      return "cookie";
    case BypassKind::crawlers:
      return "crawlers";
  }
  return "unknown";
}

core::Result<Cidr> parse_cidr(std::string_view text) { return core::parse_ip_network(text); }

core::Result<std::vector<ProxyRoute>> parse_routes(const toml::array& routes) {
  std::vector<ProxyRoute> out;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    auto route = parse_route(*routes.get(i), route_key(i));
    if (!route) return std::unexpected(route.error());
    for (std::size_t j = 0; j < out.size(); ++j)
      if (out[j].host == route->host && out[j].path_prefix == route->path_prefix)
        return bad<std::vector<ProxyRoute>>(route_key(i),
                                            "same host and path_prefix as " + route_key(j));
    out.push_back(std::move(*route));
  }
  return out;
}

}  // namespace waitroom::config
