#pragma once
// The [[routes]] of waitroom.toml: the built-in reverse proxy. Each route maps a host and a path
// prefix to an upstream and to the room whose pass it asks for, with rules for the requests that
// pass without one (docs/configuration.md). Read by config/routes_config; served by gate/.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_network.hpp"

namespace waitroom::config {

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or 2001:db8::/32 (core/ip_network).
using Cidr = core::IpNetwork;

enum class BypassKind { path_prefix, path_regex, cidr, header, cookie, crawlers };

struct BypassRule {
  BypassKind kind = BypassKind::path_prefix;
  std::string name;   // path_prefix, path_regex: the pattern; header, cookie: the name
  std::string value;  // header, cookie: the exact value
  Cidr cidr;          // cidr only

  bool operator==(const BypassRule&) const = default;
};

struct ProxyRoute {
  std::string host;  // lower case, without a port; empty: any host
  std::string path_prefix = "/";
  std::string upstream;  // as written: http://HOST[:PORT][/BASE]
  std::string upstream_host;
  std::uint16_t upstream_port = 80;
  std::string upstream_base_path;  // "" or "/base", no trailing '/'; prefixed to forwarded paths
  std::string room;
  std::int64_t connect_timeout_s = 5;
  // Longest wait for the upstream's response head, and between two reads of its body.
  std::int64_t response_timeout_s = 60;
  std::vector<BypassRule> bypass;

  bool operator==(const ProxyRoute&) const = default;
};

// The key naming a route in messages and metrics: "routes[2]".
std::string route_key(std::size_t index);
std::string_view bypass_kind_name(BypassKind kind);

}  // namespace waitroom::config
