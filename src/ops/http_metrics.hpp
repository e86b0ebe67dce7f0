#pragma once
// Request counts by route, method and status, and a latency histogram per route, in Prometheus
// text format. Lock-free on the hot path: one relaxed atomic add per counter.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace waitroom::ops {

class HttpMetrics {
 public:
  // `routes` are (method, pattern) labels; index routes.size() counts unmatched requests.
  explicit HttpMetrics(std::vector<std::pair<std::string, std::string>> routes);
  void observe(std::size_t route_index, unsigned status, double seconds);
  void render(std::string& out) const;
  std::size_t unmatched_index() const { return routes_.size(); }

 private:
  static constexpr std::array<double, 12> kBucketsS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  static constexpr unsigned kMinStatus = 100;
  static constexpr unsigned kStatusSlots = 500;  // 100..599
  struct PerRoute {
    std::array<std::atomic<std::uint64_t>, kStatusSlots> by_status{};
    std::array<std::atomic<std::uint64_t>, kBucketsS.size() + 1> buckets{};  // last: +Inf
    std::atomic<std::uint64_t> sum_us{0};
  };
  std::vector<std::pair<std::string, std::string>> routes_;
  std::unique_ptr<PerRoute[]> per_route_;
};

}  // namespace waitroom::ops
