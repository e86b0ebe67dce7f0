#include "ops/http_metrics.hpp"

#include <fmt/format.h>

namespace waitroom::ops {

HttpMetrics::HttpMetrics(std::vector<std::pair<std::string, std::string>> routes)
    : routes_(std::move(routes)), per_route_(new PerRoute[routes_.size() + 1]) {}

void HttpMetrics::observe(std::size_t route_index, unsigned status, double seconds) {
  if (route_index > routes_.size()) route_index = routes_.size();
  PerRoute& r = per_route_[route_index];
  if (status >= kMinStatus && status < kMinStatus + kStatusSlots)
    r.by_status[status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
  std::size_t b = 0;
  while (b < kBucketsS.size() && seconds > kBucketsS[b]) ++b;
  r.buckets[b].fetch_add(1, std::memory_order_relaxed);
  r.sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void HttpMetrics::render(std::string& out) const {
  auto label = [&](std::size_t i) {
    if (i == routes_.size()) return std::string(R"(route="unmatched",method="")");
    return fmt::format(R"(route="{}",method="{}")", routes_[i].second, routes_[i].first);
  };
  out +=
      "# HELP waitroom_http_requests_total HTTP requests answered, by route, method and status.\n";
  out += "# TYPE waitroom_http_requests_total counter\n";
  for (std::size_t i = 0; i <= routes_.size(); ++i) {
    const PerRoute& r = per_route_[i];
    for (unsigned s = 0; s < kStatusSlots; ++s) {
      const auto n = r.by_status[s].load(std::memory_order_relaxed);
      if (n)
        out += fmt::format("waitroom_http_requests_total{{{},status=\"{}\"}} {}\n", label(i),
                           s + kMinStatus, n);
    }
  }
  out +=
      "# HELP waitroom_http_request_duration_seconds Time from request read to response written.\n";
  out += "# TYPE waitroom_http_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i <= routes_.size(); ++i) {
    const PerRoute& r = per_route_[i];
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBucketsS.size(); ++b)
      cumulative += r.buckets[b].load(std::memory_order_relaxed);
    if (cumulative == 0) continue;
    const std::string l = label(i);
    std::uint64_t running = 0;
    for (std::size_t b = 0; b < kBucketsS.size(); ++b) {
      running += r.buckets[b].load(std::memory_order_relaxed);
      out += fmt::format("waitroom_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", l,
                         kBucketsS[b], running);
    }
    out += fmt::format("waitroom_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", l,
                       cumulative);
    out += fmt::format("waitroom_http_request_duration_seconds_sum{{{}}} {}\n", l,
                       static_cast<double>(r.sum_us.load(std::memory_order_relaxed)) / 1e6);
    out += fmt::format("waitroom_http_request_duration_seconds_count{{{}}} {}\n", l, cumulative);
  }
}

}  // namespace waitroom::ops
