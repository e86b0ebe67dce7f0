#pragma once
// Health, readiness, Prometheus metrics and the JWKS: routes for operators' tools and gates.
#include <functional>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "http/tls_context.hpp"
#include "ops/event_stream_metrics.hpp"
#include "ops/http_metrics.hpp"
#include "ops/proxy_metrics.hpp"
#include "ops/webhook_sink.hpp"
#include "store/sign_in_providers.hpp"
#include "store/store.hpp"
#include "token/key_ring.hpp"
#include "visitor/abuse_guard.hpp"

namespace waitroom::api {

// What /metrics, /healthz, /readyz and the JWKS read. Built in app/; it outlives the router, whose
// handlers refer to it.
struct OpsDeps {
  store::Store& store;
  const token::KeyRing& keys;
  // The counters /metrics shows besides the store's and the rooms'.
  const visitor::AbuseGuard& abuse;
  const ops::EventStreamMetrics& event_stream_metrics;
  std::vector<const ops::WebhookSink*> webhooks = {};  // for their delivery counters
  // Set once the route table is final (its routes are the metric's labels), before the server
  // starts; null only in `waitroom routes`, which serves nothing.
  const ops::HttpMetrics* http_metrics = nullptr;
  const ops::ProxyMetrics* proxy_metrics = nullptr;  // null without [[routes]] (no built-in proxy)
  const http::CurrentTlsContext* tls = nullptr;      // null without [tls]: no certificate expiry
  const store::SignInProviders* sign_in = nullptr;   // its sign-in counters
  // The notifier's lines (leave and come back; notify/ is wired by app/, which api/ may not
  // include); empty until it starts.
  std::function<void(std::string&)> notification_metrics = {};
};

void add_ops_routes(http::Router& router, const OpsDeps& deps);

}  // namespace waitroom::api
