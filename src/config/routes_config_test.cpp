#include "config/routes_config.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "config/server_config.hpp"
#include "testing/temp_dir.hpp"

namespace waitroom::config {
namespace {

core::Result<std::vector<ProxyRoute>> routes_of(const std::string& toml_text) {
  toml::table root = toml::parse(toml_text);
  const toml::array* routes = root["routes"].as_array();
  if (!routes) return core::fail(core::ErrorCode::bad_request, "test: no routes array");
  return parse_routes(*routes);
}

TEST(RoutesConfig, ReadsEveryKeyAndEveryBypassKind) {
  auto routes = routes_of(R"(
[[routes]]
host = "Shop.Example.COM"
path_prefix = "/shop/"
upstream = "http://app.internal:3000/base/"
room = "sale"
connect_timeout_s = 2
response_timeout_s = 30
bypass = [
  { path_prefix = "/shop/static/" },
  { path_regex = "^/shop/health$" },
  { cidr = "10.0.0.0/8" },
  { header = "X-Internal-Key", value = "s3cret" },
  { cookie = "staff", value = "yes" },
  { crawlers = true },
]
)");
  ASSERT_TRUE(routes) << routes.error().detail;
  ASSERT_EQ(routes->size(), 1u);
  const ProxyRoute& r = (*routes)[0];
  EXPECT_EQ(r.host, "shop.example.com");
  EXPECT_EQ(r.path_prefix, "/shop/");
  EXPECT_EQ(r.upstream, "http://app.internal:3000/base/");
  EXPECT_EQ(r.upstream_host, "app.internal");
  EXPECT_EQ(r.upstream_port, 3000);
  EXPECT_EQ(r.upstream_base_path, "/base");
  EXPECT_EQ(r.room, "sale");
  EXPECT_EQ(r.connect_timeout_s, 2);
  EXPECT_EQ(r.response_timeout_s, 30);
  ASSERT_EQ(r.bypass.size(), 6u);
  EXPECT_EQ(r.bypass[0].kind, BypassKind::path_prefix);
  EXPECT_EQ(r.bypass[0].name, "/shop/static/");
  EXPECT_EQ(r.bypass[1].kind, BypassKind::path_regex);
  EXPECT_EQ(r.bypass[2].kind, BypassKind::cidr);
  EXPECT_EQ(r.bypass[2].cidr.prefix_bits, 104u);
  EXPECT_EQ(r.bypass[3].kind, BypassKind::header);
  EXPECT_EQ(r.bypass[3].name, "X-Internal-Key");
  EXPECT_EQ(r.bypass[3].value, "s3cret");
  EXPECT_EQ(r.bypass[4].kind, BypassKind::cookie);
  EXPECT_EQ(r.bypass[5].kind, BypassKind::crawlers);
}

TEST(RoutesConfig, DefaultsAndIpv6Upstreams) {
  auto routes = routes_of(R"(
[[routes]]
upstream = "http://[::1]:8081"
room = "a"
[[routes]]
host = "b.example"
upstream = "http://127.0.0.1/"
room = "b"
)");
  ASSERT_TRUE(routes) << routes.error().detail;
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].host, "");
  EXPECT_EQ((*routes)[0].path_prefix, "/");
  EXPECT_EQ((*routes)[0].upstream_host, "::1");
  EXPECT_EQ((*routes)[0].upstream_port, 8081);
  EXPECT_EQ((*routes)[0].connect_timeout_s, 5);
  EXPECT_EQ((*routes)[0].response_timeout_s, 60);
  EXPECT_EQ((*routes)[1].upstream_port, 80);
  EXPECT_EQ((*routes)[1].upstream_base_path, "");  // "/" forwards paths unchanged
}

TEST(RoutesConfig, ParsesNetworks) {
  auto v4 = parse_cidr("192.168.0.0/16");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->prefix_bits, 96u + 16u);
  EXPECT_EQ(v4->address[10], 0xff);
  EXPECT_EQ(v4->address[12], 192);
  auto one = parse_cidr("192.0.2.7");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->prefix_bits, 128u);
  auto v6 = parse_cidr("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->prefix_bits, 32u);
  EXPECT_EQ(v6->address[0], 0x20);
  auto all = parse_cidr("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->prefix_bits, 96u);
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.1.2.3/8"));  // host bits set
  EXPECT_FALSE(parse_cidr("2001:db8::/129"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("example.com/8"));
}

TEST(RoutesConfig, ErrorsNameTheRouteAndKey) {
  struct Case {
    std::string route;
    std::string names;
  };
  const std::string ok = "upstream = \"http://127.0.0.1:3000\"\nroom = \"r\"\n";
  const Case cases[] = {
      {"room = \"r\"", "routes[0].upstream: is required"},
      {"upstream = \"http://127.0.0.1:3000\"", "routes[0].room: is required"},
      {ok + "colour = 1", "routes[0].colour: unknown key"},
      {"upstream = \"https://127.0.0.1\"\nroom = \"r\"",
       "routes[0].upstream: https upstreams are not supported"},
      {"upstream = \"ftp://x\"\nroom = \"r\"", "routes[0].upstream"},
      {"upstream = \"http://127.0.0.1:0\"\nroom = \"r\"", "routes[0].upstream: the port"},
      {"upstream = \"http://127.0.0.1:99999\"\nroom = \"r\"", "routes[0].upstream: the port"},
      {"upstream = \"http://u@127.0.0.1\"\nroom = \"r\"",
       "routes[0].upstream: must not contain user info"},
      {"upstream = \"http://127.0.0.1/a?b\"\nroom = \"r\"",
       "routes[0].upstream: must not have a query"},
      {"upstream = \"http://127.0.0.1\"\nroom = \"-r\"", "routes[0].room"},
      {ok + "host = \"shop.example:8080\"", "routes[0].host"},
      {ok + "host = \"http://shop.example\"", "routes[0].host"},
      {ok + "path_prefix = \"shop\"", "routes[0].path_prefix"},
      {ok + "path_prefix = \"/a/../b\"", "routes[0].path_prefix: must not contain"},
      {ok + "connect_timeout_s = 0", "routes[0].connect_timeout_s"},
      {ok + "response_timeout_s = \"60\"", "routes[0].response_timeout_s"},
      {ok + "bypass = \"/static/\"", "routes[0].bypass: must be an array"},
      {ok + "bypass = [ { cidr = \"10.0.0.0/99\" } ]", "routes[0].bypass[0].cidr"},
      {ok + "bypass = [ { path_prefix = \"/a/\" }, { cidr = \"nonsense\" } ]",
       "routes[0].bypass[1].cidr"},
      {ok + "bypass = [ { header = \"X-Key\" } ]",
       "routes[0].bypass[0].value: a header rule needs"},
      {ok + "bypass = [ { cookie = \"bad name\", value = \"x\" } ]", "routes[0].bypass[0].cookie"},
      {ok + "bypass = [ { path_prefix = \"/a/\", value = \"x\" } ]",
       "routes[0].bypass[0].value: only header"},
      {ok + "bypass = [ { path_prefix = \"/a/\", cidr = \"10.0.0.0/8\" } ]",
       "routes[0].bypass[0]: one rule per table"},
      {ok + "bypass = [ { crawlers = false } ]", "routes[0].bypass[0].crawlers: must be true"},
      {ok + "bypass = [ { user_agent = \"x\" } ]", "routes[0].bypass[0].user_agent: unknown key"},
      {ok + "bypass = [ {} ]", "routes[0].bypass[0]: needs one of"},
      {ok + "bypass = [ { path_regex = \"\" } ]", "routes[0].bypass[0].path_regex"},
  };
  for (const Case& c : cases) {
    auto routes = routes_of("[[routes]]\n" + c.route + "\n");
    ASSERT_FALSE(routes) << c.route;
    EXPECT_NE(routes.error().detail.find("config: " + c.names), std::string::npos)
        << c.route << " -> " << routes.error().detail;
  }
  auto dup = routes_of("[[routes]]\n" + ok + "[[routes]]\n" + ok);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().detail.find("routes[1]: same host and path_prefix as routes[0]"),
            std::string::npos)
      << dup.error().detail;
}

TEST(RoutesConfig, LoadedThroughTheServerConfig) {
  waitroom::testing::TempDir dir;
  const auto file = dir.path() / "waitroom.toml";
  std::ofstream(file) << "[[routes]]\nupstream = \"http://127.0.0.1:3000\"\nroom = \"shop\"\n";
  auto cfg = load_config(file);
  ASSERT_TRUE(cfg) << cfg.error().detail;
  ASSERT_EQ(cfg->routes.size(), 1u);
  EXPECT_EQ(cfg->routes[0].room, "shop");
  std::ofstream(file) << "routes = 1\n";
  auto bad = load_config(file);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find("config: routes:"), std::string::npos) << bad.error().detail;
}

}  // namespace
}  // namespace waitroom::config
