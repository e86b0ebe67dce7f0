#pragma once
// The built-in reverse proxy ([[routes]] in waitroom.toml; docs/integrations.md): Waitroom itself
// stands in front of the protected site. For a request a route serves:
//   1. a bypass rule of the route lets it through as is; otherwise
//   2. visitor::live_pass decides, as at every gate: without a live pass for the route's room the
//      visitor is refused through gate::deny (302 to the room page, or 401 for API clients);
//   3. with one (or bypassed), the request goes to the upstream over a pooled keep-alive
//      connection, its body streamed both ways, hop-by-hop headers removed, X-Forwarded-* and
//      X-Waitroom-* set; upstream failures answer 502, timeouts 504 (problem+json).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gate/bypass_rules.hpp"
#include "gate/route_table.hpp"
#include "gate/upstream_pool.hpp"
#include "http/stream_handler.hpp"
#include "ops/proxy_metrics.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::gate {

class ReverseProxy final : public http::StreamHandler {
 public:
  // From deps.config.routes: compiles the bypass rules and resolves each upstream host once
  // (as nginx does at start). Errors name the route: "config: routes[1].upstream: cannot resolve".
  // The proxy checks passes as every gate does: it needs the visitor layer's dependencies.
  static core::Result<std::unique_ptr<ReverseProxy>> create(const visitor::VisitorDeps& deps,
                                                            ops::ProxyMetrics& metrics);

  void prepare(std::size_t workers) override;
  std::optional<std::size_t> match(std::string_view host, std::string_view path) const override;
  boost::asio::awaitable<bool> serve(std::size_t route, http::StreamExchange& exchange) override;

  // The labels /metrics shows for `routes`, in order.
  static std::vector<ops::ProxyMetrics::RouteLabels> metric_labels(
      const std::vector<config::ProxyRoute>& routes);

 private:
  struct Route {
    const config::ProxyRoute* config;
    BypassRules bypass;
    std::size_t upstream;  // index into upstreams_
  };
  struct Upstream {
    std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // tried in order
  };
  // One per I/O thread, touched only by it.
  struct Worker {
    explicit Worker(std::size_t upstreams) : pool(upstreams) {}
    UpstreamPool pool;
    std::vector<std::unique_ptr<char[]>> spare_buffers;  // relay buffers, reused
  };
  struct Forwarding;
  struct Attempt;

  ReverseProxy(const visitor::VisitorDeps& deps, ops::ProxyMetrics& metrics);
  // Rewrites the request for the upstream, gets the upstream's answer (reach_upstream) and relays
  // it to the client, or answers of its own (502/504) when the upstream fails first.
  boost::asio::awaitable<ops::ProxyMetrics::Outcome> forward(const Route& route,
                                                             http::StreamExchange& ex,
                                                             Forwarding& fwd);
  boost::asio::awaitable<void> reach_upstream(const Route& route, http::StreamExchange& ex,
                                              const Forwarding& fwd, char* buf, Attempt& out);

  const visitor::VisitorDeps& deps_;
  ops::ProxyMetrics& metrics_;
  RouteTable table_;
  std::string strict_transport_security_;  // [tls] HSTS for the answers; empty: none
  std::vector<Route> routes_;
  std::vector<Upstream> upstreams_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace waitroom::gate
