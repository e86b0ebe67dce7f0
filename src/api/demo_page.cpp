#include "api/demo_page.hpp"

#include <fmt/format.h>

#include "api/gate_api.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::string_view kShopPath = "/demo/shop";

asio::awaitable<Response> shop(Services& s, RequestContext& ctx) {
  const std::string& room = s.config.demo_room;
  std::string why;
  auto pass = co_await live_pass(s, ctx.request, room, why);
  if (!pass) {
    Response res{Status::found, ctx.request.version()};
    res.set(http::beast_http::field::location, room_page_url(s, room, kShopPath));
    res.set(http::beast_http::field::cache_control, "no-store");
    res.keep_alive(ctx.request.keep_alive());
    res.prepare_payload();
    co_return res;
  }
  Response res{Status::ok, ctx.request.version()};
  res.set(http::beast_http::field::content_type, "text/html; charset=utf-8");
  res.set(http::beast_http::field::cache_control, "no-store");
  res.body() = fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24}}
main{{max-width:34rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}}</style>
</head><body><main><h1>You are in</h1>
<p>This page stands for the site the room <strong>{}</strong> protects. It let you in because your
browser carries a live pass for ticket <code>{}</code>, valid until {} (Unix time).</p>
<p>Ending your session in the admin API (<code>PUT /admin/v1/rooms/{}/sessions/{}</code> with
<code>{{"status":"revoked"}}</code>) sends you back to the line on your next visit.</p>
</main></body></html>
)",
                           room, pass->ticket, pass->expires_at_s, room, pass->ticket);
  res.keep_alive(ctx.request.keep_alive());
  res.prepare_payload();
  co_return res;
}

}  // namespace

void add_demo_routes(http::Router& router, Services& s) {
  if (s.config.demo_room.empty()) return;
  router.add(http::Method::get, std::string(kShopPath), [&s](RequestContext& ctx) { return shop(s, ctx); });
}

}  // namespace waitroom::api
