#include "ops/proxy_metrics.hpp"

#include <fmt/format.h>

namespace waitroom::ops {

namespace {

// Prometheus label values escape backslash, double quote and newline.
std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

ProxyMetrics::ProxyMetrics(std::vector<RouteLabels> routes)
    : routes_(std::move(routes)), per_route_(new PerRoute[routes_.size()]) {}

std::string_view ProxyMetrics::outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::proxied:
      return "proxied";
    case Outcome::bypassed:
      return "bypassed";
    case Outcome::refused:
      return "refused";
    case Outcome::upstream_error:
      return "upstream_error";
    case Outcome::upstream_timeout:
      return "upstream_timeout";
    case Outcome::client_error:
      return "client_error";
  }
  return "unknown";
}

void ProxyMetrics::observe(std::size_t route, Outcome outcome, double seconds) {
  if (route >= routes_.size()) return;
  PerRoute& r = per_route_[route];
  r.by_outcome[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  r.sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void ProxyMetrics::connected(std::size_t route) {
  if (route < routes_.size()) per_route_[route].connects.fetch_add(1, std::memory_order_relaxed);
}

void ProxyMetrics::render(std::string& out) const {
  if (routes_.empty()) return;
  auto label = [&](std::size_t i) {
    return fmt::format(R"(route="{}",host="{}",path_prefix="{}",room="{}")", i,
                       escape_label(routes_[i].host), escape_label(routes_[i].path_prefix),
                       escape_label(routes_[i].room));
  };
  out +=
      "# HELP waitroom_proxy_requests_total Requests the built-in proxy answered, by route and "
      "outcome.\n";
  out += "# TYPE waitroom_proxy_requests_total counter\n";
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const std::string l = label(i);
    for (std::size_t o = 0; o < kOutcomes; ++o)
      out += fmt::format("waitroom_proxy_requests_total{{{},outcome=\"{}\"}} {}\n", l,
                         outcome_name(static_cast<Outcome>(o)),
                         per_route_[i].by_outcome[o].load(std::memory_order_relaxed));
  }
  out +=
      "# HELP waitroom_proxy_request_duration_seconds Time from request head to the last byte of "
      "the answer.\n";
  out += "# TYPE waitroom_proxy_request_duration_seconds summary\n";
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    std::uint64_t count = 0;
    for (const auto& n : per_route_[i].by_outcome) count += n.load(std::memory_order_relaxed);
    const std::string l = label(i);
    out += fmt::format(
        "waitroom_proxy_request_duration_seconds_sum{{{}}} {}\n", l,
        static_cast<double>(per_route_[i].sum_us.load(std::memory_order_relaxed)) / 1e6);
    out += fmt::format("waitroom_proxy_request_duration_seconds_count{{{}}} {}\n", l, count);
  }
  out +=
      "# HELP waitroom_proxy_upstream_connections_total Connections opened to the route's "
      "upstream.\n";
  out += "# TYPE waitroom_proxy_upstream_connections_total counter\n";
  for (std::size_t i = 0; i < routes_.size(); ++i)
    out += fmt::format("waitroom_proxy_upstream_connections_total{{{}}} {}\n", label(i),
                       per_route_[i].connects.load(std::memory_order_relaxed));
}

}  // namespace waitroom::ops
