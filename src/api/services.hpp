#pragma once
// What the handlers share: the store, the keys and the server's settings. Wired in app/.
#include <functional>

#include "api/admin_session.hpp"
#include "config/server_config.hpp"
#include "core/clock.hpp"
#include "ops/event_stream_metrics.hpp"
#include "ops/http_metrics.hpp"
#include "ops/proxy_metrics.hpp"
#include "ops/webhook_sink.hpp"
#include "store/room_history.hpp"
#include "store/store.hpp"
#include "token/key_ring.hpp"
#include "visitor/abuse_guard.hpp"

namespace waitroom::api {

struct Services {
  store::Store& store;
  token::KeyRing& keys;
  const config::ServerConfig& config;
  const core::Clock& clock;
  ops::HttpMetrics* http_metrics = nullptr;  // set once the route table is final
  // Only with [testing] manual_clock: the clock tests move through /admin/v1/testing/clock.
  core::ManualClock* manual_clock = nullptr;
  // The webhook sinks, for /metrics.
  std::vector<const ops::WebhookSink*> webhooks;
  ops::ProxyMetrics* proxy_metrics =
      nullptr;  // with [[routes]]: the built-in proxy's, for /metrics
  // The operator dashboard's sessions, also accepted on /admin/v1 (set by add_dashboard_routes).
  AdminSessionCheck* admin_sessions = nullptr;
  // The rooms' recent numbers for the dashboard's charts (null: none kept, e.g. `waitroom routes`).
  const store::RoomHistory* history = nullptr;
  // The live update streams' counts, for /metrics.
  ops::EventStreamMetrics* event_stream_metrics = nullptr;
  // Rate limits, proof of work and pass binding (null: none, e.g. `waitroom routes`).
  visitor::AbuseGuard* abuse = nullptr;
  // After a key rotation: the Redis store's nodes share keys, so the new ones are published for
  // the others (docs/scaling.md). Empty with the embedded store.
  std::function<core::Result<void>()> publish_keys = nullptr;
};

}  // namespace waitroom::api
