#include "gate/bypass_rules.hpp"

#include <gtest/gtest.h>

#include "config/routes_config.hpp"

namespace waitroom::gate {
namespace {

namespace bhttp = boost::beast::http;
using boost::asio::ip::make_address;
using config::BypassKind;
using config::BypassRule;

BypassRule rule(BypassKind kind, std::string name, std::string value = {}) {
  BypassRule r;
  r.kind = kind;
  r.name = std::move(name);
  r.value = std::move(value);
  return r;
}

BypassRule network(const char* text) {
  BypassRule r = rule(BypassKind::cidr, text);
  auto cidr = config::parse_cidr(text);
  EXPECT_TRUE(cidr) << text;
  if (cidr) r.cidr = *cidr;
  return r;
}

BypassRules compile(std::vector<BypassRule> rules) {
  auto compiled = BypassRules::compile(std::move(rules), "routes[0].bypass");
  EXPECT_TRUE(compiled) << compiled.error().detail;
  return std::move(*compiled);
}

struct Probe {
  std::string path = "/";
  bhttp::fields headers;
  boost::asio::ip::address remote = make_address("203.0.113.9");
  const BypassRule* on(const BypassRules& rules) const {
    return rules.match(BypassRequest{path, headers, remote});
  }
};

TEST(BypassRules, PathPrefixAndRegex) {
  auto rules = compile(
      {rule(BypassKind::path_prefix, "/static/"), rule(BypassKind::path_regex, "^/health$")});
  Probe p;
  p.path = "/static/app.css";
  ASSERT_NE(p.on(rules), nullptr);
  EXPECT_EQ(p.on(rules)->kind, BypassKind::path_prefix);
  p.path = "/health";
  ASSERT_NE(p.on(rules), nullptr);
  EXPECT_EQ(p.on(rules)->kind, BypassKind::path_regex);
  for (const char* gated : {"/healthz", "/x/health", "/static", "/basket", "/Static/app.css"}) {
    p.path = gated;
    EXPECT_EQ(p.on(rules), nullptr) << gated;
  }
}

TEST(BypassRules, PathRulesNeverMatchDotSegments) {
  auto rules = compile(
      {rule(BypassKind::path_prefix, "/static/"), rule(BypassKind::path_regex, "^/static/")});
  Probe p;
  for (const char* climbing : {"/static/../basket", "/static/%2e%2e/basket", "/static/..%2fbasket",
                               "/static/.%2E/basket", "/static/..\\basket", "/static/./x"}) {
    p.path = climbing;
    EXPECT_EQ(p.on(rules), nullptr) << climbing;
  }
  p.path = "/static/a..b/c.css";  // dots inside a name are fine
  EXPECT_NE(p.on(rules), nullptr);
}

TEST(BypassRules, BadRegexNamesTheRule) {
  std::vector<BypassRule> rules{rule(BypassKind::path_prefix, "/a/"),
                                rule(BypassKind::path_regex, "^/(unclosed")};
  auto compiled = BypassRules::compile(std::move(rules), "routes[3].bypass");
  ASSERT_FALSE(compiled);
  EXPECT_NE(compiled.error().detail.find("config: routes[3].bypass[1].path_regex: "),
            std::string::npos)
      << compiled.error().detail;
  // RE2 refuses what it cannot run in linear time, e.g. backreferences.
  std::vector<BypassRule> backref{rule(BypassKind::path_regex, "^/(a)\\1$")};
  EXPECT_FALSE(BypassRules::compile(std::move(backref), "routes[0].bypass"));
}

TEST(BypassRules, ClientNetworksIpv4AndIpv6) {
  auto rules = compile({network("10.0.0.0/8"), network("2001:db8::/32"), network("192.0.2.7")});
  Probe p;
  for (const char* inside : {"10.1.2.3", "10.255.255.255", "::ffff:10.9.9.9", "2001:db8::1",
                             "2001:db8:ffff::", "192.0.2.7"}) {
    p.remote = make_address(inside);
    EXPECT_NE(p.on(rules), nullptr) << inside;
  }
  for (const char* outside :
       {"11.0.0.1", "9.255.255.255", "2001:db9::1", "::1", "192.0.2.8", "::a00:1"}) {
    p.remote = make_address(outside);
    EXPECT_EQ(p.on(rules), nullptr) << outside;
  }
}

TEST(InNetwork, OddPrefixLengths) {
  auto net = config::parse_cidr("172.16.0.0/12");
  ASSERT_TRUE(net);
  EXPECT_TRUE(in_network(*net, make_address("172.31.255.1")));
  EXPECT_FALSE(in_network(*net, make_address("172.32.0.1")));
  auto all = config::parse_cidr("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(in_network(*all, make_address("198.51.100.1")));
  EXPECT_FALSE(in_network(*all, make_address("2001:db8::1")));  // every IPv4 address, not IPv6
}

TEST(BypassRules, HeaderAndCookieMustEqualTheValue) {
  auto rules = compile({rule(BypassKind::header, "X-Internal-Key", "s3cret"),
                        rule(BypassKind::cookie, "staff", "yes")});
  Probe p;
  EXPECT_EQ(p.on(rules), nullptr);
  p.headers.set("x-internal-key", "s3cret");  // names compare without case
  ASSERT_NE(p.on(rules), nullptr);
  EXPECT_EQ(p.on(rules)->kind, BypassKind::header);
  p.headers.set("X-Internal-Key", "s3cret2");
  EXPECT_EQ(p.on(rules), nullptr);
  p.headers.set("X-Internal-Key", "S3CRET");  // values do not
  EXPECT_EQ(p.on(rules), nullptr);
  p.headers.erase("X-Internal-Key");
  p.headers.set(bhttp::field::cookie, "a=1; staff=yes; b=2");
  ASSERT_NE(p.on(rules), nullptr);
  EXPECT_EQ(p.on(rules)->kind, BypassKind::cookie);
  p.headers.set(bhttp::field::cookie, "staff=no; xstaff=yes");
  EXPECT_EQ(p.on(rules), nullptr);
}

TEST(BypassRules, Crawlers) {
  auto rules = compile({rule(BypassKind::crawlers, "")});
  Probe p;
  EXPECT_EQ(p.on(rules), nullptr);
  for (const char* ua :
       {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0)", "Mozilla/5.0 (compatible; YandexBot/3.0)",
        "Mozilla/5.0 (Macintosh) Applebot/0.1", "Mozilla/5.0 (compatible; Yahoo! Slurp)",
        "GOOGLEBOT"}) {
    p.headers.set(bhttp::field::user_agent, ua);
    EXPECT_NE(p.on(rules), nullptr) << ua;
  }
  for (const char* ua :
       {"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "curl/8.0", "python-requests/2.28"}) {
    p.headers.set(bhttp::field::user_agent, ua);
    EXPECT_EQ(p.on(rules), nullptr) << ua;
  }
}

TEST(BypassRules, FirstMatchingRuleWinsAndNoRulesMatchNothing) {
  auto none = compile({});
  Probe p;
  p.path = "/static/x";
  EXPECT_EQ(p.on(none), nullptr);
  auto rules = compile({network("0.0.0.0/0"), rule(BypassKind::path_prefix, "/static/")});
  ASSERT_NE(p.on(rules), nullptr);
  EXPECT_EQ(p.on(rules)->kind, BypassKind::cidr);
}

}  // namespace
}  // namespace waitroom::gate
