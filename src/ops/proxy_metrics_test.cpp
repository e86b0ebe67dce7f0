#include "ops/proxy_metrics.hpp"

#include <gtest/gtest.h>

namespace waitroom::ops {
namespace {

TEST(ProxyMetrics, CountsPerRouteAndOutcome) {
  ProxyMetrics m({{"shop.example", "/", "sale"}, {"", "/a\"b\\", "r"}});
  m.observe(0, ProxyMetrics::Outcome::proxied, 0.5);
  m.observe(0, ProxyMetrics::Outcome::proxied, 0.25);
  m.observe(0, ProxyMetrics::Outcome::upstream_timeout, 1.0);
  m.observe(1, ProxyMetrics::Outcome::refused, 0.001);
  m.observe(7, ProxyMetrics::Outcome::refused, 1.0);  // no such route: ignored
  m.connected(0);
  std::string out;
  m.render(out);
  const std::string l0 = R"(route="0",host="shop.example",path_prefix="/",room="sale")";
  EXPECT_NE(out.find("waitroom_proxy_requests_total{" + l0 + ",outcome=\"proxied\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("waitroom_proxy_requests_total{" + l0 + ",outcome=\"upstream_timeout\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("waitroom_proxy_requests_total{" + l0 + ",outcome=\"bypassed\"} 0\n"),
            std::string::npos);
  EXPECT_NE(out.find("waitroom_proxy_request_duration_seconds_sum{" + l0 + "} 1.75\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("waitroom_proxy_request_duration_seconds_count{" + l0 + "} 3\n"),
            std::string::npos);
  EXPECT_NE(out.find("waitroom_proxy_upstream_connections_total{" + l0 + "} 1\n"),
            std::string::npos);
  // label values are escaped
  EXPECT_NE(out.find(R"(route="1",host="",path_prefix="/a\"b\\",room="r",outcome="refused"} 1)"),
            std::string::npos)
      << out;
}

TEST(ProxyMetrics, NothingWithoutRoutes) {
  ProxyMetrics m({});
  std::string out;
  m.render(out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace waitroom::ops
