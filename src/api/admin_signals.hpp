#pragma once
// /admin/v1/rooms/{room}/signals: the room's site's health signals (store/health_board.hpp), as
// adaptive admission's controller reads them. POST is for sites behind another proxy (nginx,
// Caddy): a feeder posts what their logs or Prometheus say; GET shows what the controller sees.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "http/message.hpp"
#include "store/health_board.hpp"

namespace waitroom::api {

// POST {"p95_ms"?: n, "p50_ms"?: n, "error_ratio"?: 0..1, "max_age_s"?: 1..3600} (p95_ms or
// error_ratio required) -> 200 with what the controller sees now.
boost::asio::awaitable<http::Response> post_signals(const AdminDeps& deps,
                                                    http::RequestContext& ctx,
                                                    const AdminCaller& caller);
boost::asio::awaitable<http::Response> get_signals(const AdminDeps& deps, http::RequestContext& ctx,
                                                   const AdminCaller& caller);
// The report as the routes and the room's stats show it.
boost::json::object signals_json(const store::HealthReport& report);

}  // namespace waitroom::api
