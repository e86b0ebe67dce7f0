#pragma once
// Which [[routes]] entry serves a request: the routes of the request's host if any of them
// matches the path, else the routes for any host; among those, the longest path prefix. (The way
// nginx picks a server by name, then a location.) Hosts compare without port, case-insensitively;
// prefixes are plain string prefixes of the path as sent ("/shop" also matches "/shopping").
#include <optional>
#include <string_view>
#include <vector>

#include "config/proxy_route.hpp"

namespace waitroom::gate {

class RouteTable {
 public:
  explicit RouteTable(const std::vector<config::ProxyRoute>& routes);
  // The index of the route for this Host header value and path; nullopt: none.
  std::optional<std::size_t> match(std::string_view host_header, std::string_view path) const;

 private:
  struct Entry {
    std::string host;
    std::string prefix;
    std::size_t index;
  };
  std::vector<Entry> entries_;  // host-specific first, then longest prefix first
};

// The host of a Host header value, without the port, lower-cased ("Shop.Example:8080" →
// "shop.example",
// "[::1]:80" → "[::1]").
std::string normalize_host(std::string_view host_header);

// True when a segment of `path` is "." or "..", also when percent-encoded (%2e) or delimited by an
// encoded slash or backslash (%2f, %5c, '\'): the upstream may resolve such a path to one outside
// the prefix or bypass rule it seems to match, so the proxy refuses it.
bool has_dot_segment(std::string_view path);

}  // namespace waitroom::gate
