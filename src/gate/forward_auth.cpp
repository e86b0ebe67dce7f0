#include "gate/forward_auth.hpp"

#include "gate/deny.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "visitor/visitor_pass.hpp"

namespace waitroom::gate {

namespace asio = boost::asio;
using http::RequestContext;
using http::Response;
using http::Status;
using visitor::live_pass;
using visitor::VisitorDeps;

namespace {

// The URL the visitor asked for, as the proxy in front reports it (nginx: X-Original-URI with
// X-Forwarded-Proto/Host set in its config; Caddy and Traefik: X-Forwarded-Proto/Host/Uri).
std::string original_url(const http::Request& req) {
  std::string_view uri = http::header_value(req, "X-Original-URI");
  if (uri.empty()) uri = http::header_value(req, "X-Forwarded-Uri");
  if (uri.empty()) uri = "/";
  std::string_view host = http::header_value(req, "X-Forwarded-Host");
  if (host.empty()) host = http::header_value(req, "Host");
  std::string_view proto = http::header_value(req, "X-Forwarded-Proto");
  if (proto != "https") proto = "http";
  if (host.empty()) return std::string(uri);
  return std::string(proto) + "://" + std::string(host) + std::string(uri);
}

asio::awaitable<Response> check(const VisitorDeps& s, RequestContext& ctx) {
  auto room = http::query_param(ctx.query, "room");
  if (!room || !core::is_valid_room_name(*room))
    co_return http::problem(ctx.request, Status::bad_request, "give the room: ?room=NAME");
  const std::string mode = http::query_param(ctx.query, "on_fail").value_or("auto");
  if (mode != "auto" && mode != "401" && mode != "302")
    co_return http::problem(ctx.request, Status::bad_request, "on_fail must be auto, 401 or 302");
  const OnFail on_fail = mode == "302"   ? OnFail::redirect
                         : mode == "401" ? OnFail::unauthorized
                                         : OnFail::automatic;
  std::string why;
  std::optional<store::PassCheck> passed =
      co_await live_pass(s, ctx.request, ctx.remote, *room, why);
  if (!passed) {
    // Only refusals pay for telling an unknown room (a misconfigured proxy) from a missing pass.
    auto known = co_await s.store.room(*room);
    if (!known) co_return http::problem(ctx.request, known.error());
    const std::string return_url = original_url(ctx.request);
    co_return deny(s, ctx.request, Refusal{*room, why, return_url, on_fail});
  }
  Response res{Status::no_content, ctx.request.version()};
  res.set("X-Waitroom-Room", *room);
  res.set("X-Waitroom-Ticket", passed->ticket);
  res.set("X-Waitroom-Expires", std::to_string(passed->expires_at_s));
  res.set("X-Waitroom-Party-Size", std::to_string(passed->party_size));
  // A renewed pass reaches the browser through the proxy (deploy/nginx: auth_request_set and
  // add_header Set-Cookie); the proxy must not forward this header to the site itself.
  if (passed->renewed) {  // rare: keeps the coroutine call off the gate's hot path
    std::optional<std::string> renewed = co_await visitor::renewed_pass_cookie(s, *room, *passed);
    if (renewed) res.set("X-Waitroom-Set-Cookie", *renewed);
  }
  res.set(http::beast_http::field::cache_control, "no-store");
  res.keep_alive(ctx.request.keep_alive());
  res.prepare_payload();
  co_return res;
}

}  // namespace

void add_forward_auth_routes(http::Router& router, const VisitorDeps& s) {
  router.add(http::Method::get, s.config.gate_path,
             [&s](RequestContext& ctx) { return check(s, ctx); });
}

}  // namespace waitroom::gate
