#pragma once
// The built-in proxy's requests by route and outcome, their time, and the upstream connections it
// opened (few against many requests: keep-alive works), in Prometheus text format. Lock-free: one
// relaxed atomic add per counter.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace waitroom::ops {

class ProxyMetrics {
 public:
  enum class Outcome : std::uint8_t {
    proxied,           // admitted with a live pass, the upstream answered
    bypassed,          // a bypass rule let it through, the upstream answered
    refused,           // no live pass: sent to the room (302) or 401
    upstream_error,    // the upstream refused, reset or broke the exchange: 502
    upstream_timeout,  // the upstream did not connect or answer in time: 504
    client_error,      // the client went away, was too slow, or sent a broken body
  };
  static constexpr std::size_t kOutcomes = 6;
  struct RouteLabels {
    std::string host;  // empty: any
    std::string path_prefix;
    std::string room;
  };

  explicit ProxyMetrics(std::vector<RouteLabels> routes);
  void observe(std::size_t route, Outcome outcome, double seconds);
  void connected(std::size_t route);  // a new connection to the route's upstream
  void render(std::string& out) const;
  static std::string_view outcome_name(Outcome outcome);

 private:
  struct PerRoute {
    std::array<std::atomic<std::uint64_t>, kOutcomes> by_outcome{};
    std::atomic<std::uint64_t> sum_us{0};
    std::atomic<std::uint64_t> connects{0};
  };
  std::vector<RouteLabels> routes_;
  std::unique_ptr<PerRoute[]> per_route_;
};

}  // namespace waitroom::ops
