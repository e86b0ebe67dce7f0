#include "api/ops_api.hpp"

#include <fmt/format.h>

#include "api/json_io.hpp"
#include "http/problem.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

// JWKS changes only on rotation; gates may cache it briefly.
constexpr int kJwksMaxAgeS = 60;

void room_metrics(std::string& out, const std::vector<store::RoomView>& rooms) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t core::RoomCounters::*field;
  };
  static constexpr Family kFamilies[] = {
      {"waitroom_tickets_issued_total", "counter", "Tickets handed out, over the room's life.",
       &core::RoomCounters::tickets_issued_total},
      {"waitroom_queue_length", "gauge", "Tickets handed out since the last reset.",
       &core::RoomCounters::queue_counter},
      {"waitroom_waiting", "gauge",
       "Tickets neither admitted nor found gone (since the last reset).",
       &core::RoomCounters::waiting},
      {"waitroom_eligible", "gauge", "Admitted tickets whose pass is not claimed yet.",
       &core::RoomCounters::eligible},
      {"waitroom_admitted", "gauge", "Admissions since the last reset.",
       &core::RoomCounters::admitted},
      {"waitroom_tickets_expired", "gauge",
       "Tickets that left the line or did not claim their pass in time (since the last reset).",
       &core::RoomCounters::tickets_expired},
      {"waitroom_serving", "gauge", "The serving counter.", &core::RoomCounters::serving},
      {"waitroom_passes_issued_total", "counter", "Passes issued, over the room's life.",
       &core::RoomCounters::passes_issued_total},
      {"waitroom_active_sessions", "gauge", "Sessions whose pass is live.",
       &core::RoomCounters::active_sessions},
  };
  for (const Family& f : kFamilies) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
    for (const auto& r : rooms)
      out += fmt::format("{}{{room=\"{}\"}} {}\n", f.name, r.name, r.counters.*f.field);
  }
  // Only the rooms they apply to: a room that counts no items has no inventory to alert on.
  struct Optional {
    const char* name;
    const char* help;
    std::optional<std::uint64_t> (*value)(const store::RoomView&);
  };
  static constexpr Optional kOptional[] = {
      {"waitroom_inventory_left", "Items the room has left to sell (rooms that count them).",
       [](const store::RoomView& r) { return r.inventory; }},
      {"waitroom_sold_out", "1 while the room's inventory is at 0 (rooms that count items).",
       [](const store::RoomView& r) {
         return r.inventory ? std::optional<std::uint64_t>(r.sold_out ? 1 : 0) : std::nullopt;
       }},
      {"waitroom_admission_limit",
       "Adaptive admission's limit on places held, as its controller set it.",
       [](const store::RoomView& r) { return r.active_limit; }},
      {"waitroom_notices", "Visitors with a notice (leave and come back; rooms with away_max_s).",
       [](const store::RoomView& r) {
         return r.settings.away_max_s > 0 ? std::optional<std::uint64_t>(r.notices) : std::nullopt;
       }},
      {"waitroom_notices_due",
       "Their messages due and not yet sent or given up (rooms with away_max_s).",
       [](const store::RoomView& r) {
         return r.settings.away_max_s > 0 ? std::optional<std::uint64_t>(r.notices_due)
                                          : std::nullopt;
       }},
  };
  for (const Optional& f : kOptional) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", f.name, f.help, f.name);
    for (const auto& r : rooms)
      if (const std::optional<std::uint64_t> v = f.value(r))
        out += fmt::format("{}{{room=\"{}\"}} {}\n", f.name, r.name, *v);
  }
}

asio::awaitable<Response> metrics(const OpsDeps& s, RequestContext& ctx) {
  std::string out;
  if (s.http_metrics) s.http_metrics->render(out);
  if (s.proxy_metrics) s.proxy_metrics->render(out);
  s.event_stream_metrics.render(out);
  ops::write_webhook_metrics(out, s.webhooks);
  s.abuse.render_metrics(out);
  s.store.render_metrics(out);
  if (s.sign_in) s.sign_in->render_metrics(out);
  if (s.notification_metrics) s.notification_metrics(out);
  auto rooms = co_await s.store.rooms();
  if (rooms) room_metrics(out, *rooms);
  out += fmt::format(
      "# HELP waitroom_store_ready 1 when the store accepts writes.\n# TYPE waitroom_store_ready "
      "gauge\nwaitroom_store_ready {}\n",
      s.store.ready() ? 1 : 0);
  // The certificate new connections get: a renewal picked up by SIGHUP shows at once.
  if (s.tls)
    out += fmt::format(
        "# HELP waitroom_tls_certificate_expiry_seconds When the [tls] certificate in use expires "
        "(its notAfter, Unix time).\n# TYPE waitroom_tls_certificate_expiry_seconds gauge\n"
        "waitroom_tls_certificate_expiry_seconds {}\n",
        s.tls->get()->certificate().not_after_s);
  Response res{Status::ok, ctx.request.version()};
  res.set(http::beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.keep_alive(ctx.request.keep_alive());
  res.body() = std::move(out);
  res.prepare_payload();
  co_return res;
}

asio::awaitable<Response> healthz(const OpsDeps&, RequestContext& ctx) {
  co_return json_ok(ctx.request, json::object{{"status", "ok"}});
}

asio::awaitable<Response> readyz(const OpsDeps& s, RequestContext& ctx) {
  if (!s.store.ready())
    co_return http::problem(ctx.request, Status::service_unavailable,
                            "the store cannot accept writes", 5);
  co_return json_ok(ctx.request, json::object{{"status", "ready"}});
}

asio::awaitable<Response> jwks(const OpsDeps& s, RequestContext& ctx) {
  Response res = json_ok(ctx.request, s.keys.jwks());
  res.set(http::beast_http::field::cache_control, fmt::format("public, max-age={}", kJwksMaxAgeS));
  co_return res;
}

}  // namespace

void add_ops_routes(http::Router& router, const OpsDeps& s) {
  using http::Method;
  router.add(Method::get, "/healthz", [&s](RequestContext& c) { return healthz(s, c); });
  router.add(Method::get, "/readyz", [&s](RequestContext& c) { return readyz(s, c); });
  router.add(Method::get, "/metrics", [&s](RequestContext& c) { return metrics(s, c); });
  router.add(Method::get, "/.well-known/jwks.json", [&s](RequestContext& c) { return jwks(s, c); });
}

}  // namespace waitroom::api
