#include "gate/route_table.hpp"

#include <gtest/gtest.h>

namespace waitroom::gate {
namespace {

config::ProxyRoute route(std::string host, std::string prefix) {
  config::ProxyRoute r;
  r.host = std::move(host);
  r.path_prefix = std::move(prefix);
  return r;
}

TEST(RouteTable, NamedHostFirstThenLongestPrefix) {
  const std::vector<config::ProxyRoute> routes{route("", "/"), route("", "/api/"),
                                               route("shop.example", "/"),
                                               route("shop.example", "/checkout/")};
  RouteTable t(routes);
  EXPECT_EQ(t.match("other.example", "/x"), 0u);
  EXPECT_EQ(t.match("other.example", "/api/v1"), 1u);
  EXPECT_EQ(t.match("shop.example", "/x"), 2u);
  EXPECT_EQ(t.match("Shop.Example:8080", "/checkout/pay"), 3u);
  // The host's own routes win even over a longer any-host prefix, as nginx picks a server first.
  EXPECT_EQ(t.match("shop.example", "/api/v1"), 2u);
  EXPECT_EQ(t.match("", "/api/x"), 1u);
}

TEST(RouteTable, NoMatch) {
  const std::vector<config::ProxyRoute> routes{route("shop.example", "/shop/")};
  RouteTable t(routes);
  EXPECT_FALSE(t.match("shop.example", "/"));
  EXPECT_FALSE(t.match("other.example", "/shop/x"));
  EXPECT_EQ(t.match("shop.example", "/shopping"), std::nullopt);
  EXPECT_EQ(t.match("SHOP.EXAMPLE", "/shop/x"), 0u);
  EXPECT_FALSE(RouteTable({}).match("a", "/"));
}

TEST(NormalizeHost, DropsPortAndCase) {
  EXPECT_EQ(normalize_host("Shop.Example:8080"), "shop.example");
  EXPECT_EQ(normalize_host("shop.example"), "shop.example");
  EXPECT_EQ(normalize_host("[::1]:8080"), "[::1]");
  EXPECT_EQ(normalize_host("[::1]"), "[::1]");
  EXPECT_EQ(normalize_host("127.0.0.1:80"), "127.0.0.1");
  EXPECT_EQ(normalize_host(""), "");
}

TEST(HasDotSegment, FindsPlainAndEncodedDots) {
  for (const char* p : {"/..", "/../x", "/a/../b", "/a/./b", "/a/.", "/%2e%2e/x", "/%2E./x",
                        "/a%2f..%2fb", "/a%5C..%5Cb", "/a\\..\\b", "..", "/a/%2e"})
    EXPECT_TRUE(has_dot_segment(p)) << p;
  for (const char* p : {"/", "/a/b", "/a..b", "/.well-known/x", "/a/...", "/%2e%2e%2e", "/a.b/c.d",
                        "/%", "/%2", "/a%2fb", ""})
    EXPECT_FALSE(has_dot_segment(p)) << p;
}

}  // namespace
}  // namespace waitroom::gate
