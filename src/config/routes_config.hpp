#pragma once
// Reads and checks the [[routes]] tables of waitroom.toml:
//
//   [[routes]]
//   host = "shop.example.com"            # optional; empty or left out: any host
//   path_prefix = "/"                    # optional, default "/"
//   upstream = "http://127.0.0.1:3000"   # required; http only, optional base path
//   room = "sale"                        # required
//   connect_timeout_s = 5                # optional
//   response_timeout_s = 60              # optional
//   bypass = [ { path_prefix = "/static/" }, { cidr = "10.0.0.0/8" } ]
//
// Errors are bad_request and name the route and key, e.g. "config: routes[1].upstream: ...".
// Regexes are compiled (and so checked) by gate/bypass_rules, which alone links RE2.
#include <toml++/toml.h>

#include <string_view>
#include <vector>

#include "config/proxy_route.hpp"
#include "core/error.hpp"

namespace waitroom::config {

core::Result<std::vector<ProxyRoute>> parse_routes(const toml::array& routes);

// "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7" is /32, "::1" is /128).
core::Result<Cidr> parse_cidr(std::string_view text);

}  // namespace waitroom::config
