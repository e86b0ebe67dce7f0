#include "net/http_url.hpp"

#include <gtest/gtest.h>

namespace waitroom::net {
namespace {

TEST(HttpUrl, TakesAnHttpsUrlApart) {
  auto u = parse_http_url("https://user:p%40ss@Example.com:8443/hook/a?x=1");
  ASSERT_TRUE(u) << u.error();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "Example.com");
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->host_header, "Example.com:8443");
  EXPECT_EQ(u->target, "/hook/a?x=1");
  EXPECT_TRUE(u->has_userinfo);
  EXPECT_EQ(u->user, "user");
  EXPECT_EQ(u->password, "p@ss");
  // Neither the credentials nor the query reach logs and metrics.
  EXPECT_EQ(u->display, "https://Example.com:8443/hook/a");
}

TEST(HttpUrl, DefaultsThePortAndThePath) {
  auto plain = parse_http_url("http://[::1]");
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->host, "::1");
  EXPECT_TRUE(plain->host_is_ip);
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/");
  EXPECT_EQ(parse_http_url("https://10.0.0.1/")->port, 443);
}

TEST(HttpUrl, RefusesWhatItCannotCall) {
  EXPECT_EQ(parse_http_url("ftp://example.com/").error(), "must start with http:// or https://");
  EXPECT_EQ(parse_http_url("http:///path").error(), "has no host");
  EXPECT_EQ(parse_http_url("http://example.com:65536/").error(), "port must be 1-65535");
  EXPECT_EQ(parse_http_url("http://example.com:0/").error(), "port must be 1-65535");
  EXPECT_EQ(parse_http_url("not a url").error().rfind("not a valid absolute URL (", 0), 0u);
  EXPECT_TRUE(parse_http_url("http://example.com/#frag")->has_fragment);
}

}  // namespace
}  // namespace waitroom::net
