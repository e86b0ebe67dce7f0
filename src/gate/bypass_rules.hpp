#pragma once
// The requests a proxy route lets through without a pass (the route's `bypass` list): static
// files, health checks, internal networks, staff carrying a secret header or cookie, search-engine
// crawlers. Pure, and compiled once at start. Regexes are RE2: linear time, so a hostile path
// cannot make matching slow.
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/proxy_route.hpp"
#include "core/error.hpp"

namespace re2 {
class RE2;
}

namespace waitroom::gate {

struct BypassRequest {
  std::string_view path;  // without the query string, as sent (not percent-decoded)
  const boost::beast::http::fields& headers;
  const boost::asio::ip::address& remote;  // the TCP peer; X-Forwarded-For is not trusted
};

class BypassRules {
 public:
  // Compiles the rules' regexes; a bad one is an error naming `key` and the rule's index, e.g.
  // "config: routes[0].bypass[1].path_regex: missing ): (a".
  static core::Result<BypassRules> compile(std::vector<config::BypassRule> rules,
                                           const std::string& key);
  BypassRules();
  BypassRules(BypassRules&&) noexcept;
  BypassRules& operator=(BypassRules&&) noexcept;
  ~BypassRules();

  // The first rule the request meets, or nullptr. Path rules never match a path with dot
  // segments (has_dot_segment), which could reach past the prefix once the upstream resolves it.
  const config::BypassRule* match(const BypassRequest& req) const;

 private:
  std::vector<config::BypassRule> rules_;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;  // one per rule; null but for path_regex
};

// The User-Agent tokens of the crawlers `crawlers = true` lets through, matched as
// case-insensitive substrings. A User-Agent is easy to fake: pair the rule with a cidr rule of the
// crawlers' published networks where that matters (docs/configuration.md).
inline constexpr std::string_view kCrawlerTokens[] = {
    "Googlebot", "bingbot", "DuckDuckBot", "Baiduspider", "YandexBot", "Applebot", "Slurp",
};
bool is_crawler(std::string_view user_agent);

// Whether `address` is in `network` (IPv4 peers compare as IPv4-mapped IPv6, as networks do).
bool in_network(const config::Cidr& network, const boost::asio::ip::address& address);

}  // namespace waitroom::gate
