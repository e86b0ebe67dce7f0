#include "gate/bypass_rules.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "gate/route_table.hpp"
#include "http/client_address.hpp"
#include "http/message.hpp"

namespace waitroom::gate {

namespace {

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

// Header and cookie values are shared secrets: compare without an early exit.
bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

BypassRules::BypassRules() = default;
BypassRules::BypassRules(BypassRules&&) noexcept = default;
BypassRules& BypassRules::operator=(BypassRules&&) noexcept = default;
BypassRules::~BypassRules() = default;

core::Result<BypassRules> BypassRules::compile(std::vector<config::BypassRule> rules,
                                               const std::string& key) {
  BypassRules out;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    std::unique_ptr<re2::RE2> re;
    if (rules[i].kind == config::BypassKind::path_regex) {
      re2::RE2::Options options;
      options.set_log_errors(false);  // the error goes into the config message instead
      re = std::make_unique<re2::RE2>(rules[i].name, options);
      if (!re->ok())
        return core::fail(core::ErrorCode::bad_request, "config: " + key + "[" + std::to_string(i) +
                                                            "].path_regex: " + re->error());
    }
    out.regexes_.push_back(std::move(re));
  }
  out.rules_ = std::move(rules);
  return out;
}

const config::BypassRule* BypassRules::match(const BypassRequest& req) const {
  using config::BypassKind;
  std::optional<bool> plain_path;  // computed once, only if a path rule asks
  auto path_is_plain = [&] {
    if (!plain_path) plain_path = !has_dot_segment(req.path);
    return *plain_path;
  };
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const config::BypassRule& rule = rules_[i];
    bool met = false;
    switch (rule.kind) {
      case BypassKind::path_prefix:
        met = req.path.starts_with(rule.name) && path_is_plain();
        break;
      case BypassKind::path_regex:
        met = re2::RE2::PartialMatch(re2::StringPiece(req.path.data(), req.path.size()),
                                     *regexes_[i]) &&
              path_is_plain();
        break;
      case BypassKind::cidr:
        met = in_network(rule.cidr, req.remote);
        break;
      case BypassKind::header: {
        auto it = req.headers.find(rule.name);
        met = it != req.headers.end() && equal_constant_time(it->value(), rule.value);
        break;
      }
      case BypassKind::cookie: {
        auto it = req.headers.find(boost::beast::http::field::cookie);
        met = it != req.headers.end() &&
              equal_constant_time(http::cookie_value(req.headers, rule.name), rule.value);
        break;
      }
      case BypassKind::crawlers: {
        auto it = req.headers.find(boost::beast::http::field::user_agent);
        met = it != req.headers.end() && is_crawler(it->value());
        break;
      }
    }
    if (met) return &rule;
  }
  return nullptr;
}

bool is_crawler(std::string_view user_agent) {
  return std::any_of(
      std::begin(kCrawlerTokens), std::end(kCrawlerTokens),
      [&](std::string_view token) { return contains_ignoring_case(user_agent, token); });
}

bool in_network(const config::Cidr& network, const boost::asio::ip::address& address) {
  return (address.is_v4() || address.is_v6()) &&
         core::contains(network, http::to_ip_bytes(address));
}

}  // namespace waitroom::gate
