#include "api/demo_page.hpp"

#include <fmt/format.h>

#include "visitor/html_page.hpp"
#include "visitor/visitor_pass.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::string_view kShopPath = "/demo/shop";

asio::awaitable<Response> shop(const visitor::VisitorDeps& s, RequestContext& ctx) {
  const std::string& room = s.config.demo_room;
  std::string why;
  auto pass = co_await visitor::live_pass(s, ctx.request, ctx.remote, room, why);
  if (!pass)
    co_return http::redirect(ctx.request, Status::found,
                             visitor::room_page_url(s, room, kShopPath));
  std::optional<std::string> renewed = co_await visitor::renewed_pass_cookie(s, room, *pass);
  Response res = visitor::html_response(
      ctx.request, Status::ok,
      visitor::html_page(
          room, "You are in",
          fmt::format("<p>This page stands for the site the room <strong>{0}</strong> "
                      "protects. It let you in "
                      "because your browser carries a live pass for ticket <code>{1}</code>, "
                      "valid until {2} "
                      "(Unix time).</p><p>Ending your session in the admin API (<code>PUT "
                      "/admin/v1/rooms/{0}/sessions/{1}</code> with "
                      "<code>{{\"status\":\"revoked\"}}</code>) "
                      "sends you back to the line on your next visit.</p>",
                      room, pass->ticket, pass->expires_at_s)));
  if (renewed) res.set(http::beast_http::field::set_cookie, *renewed);
  co_return res;
}

}  // namespace

void add_demo_routes(http::Router& router, const visitor::VisitorDeps& s) {
  if (s.config.demo_room.empty()) return;
  router.add(http::Method::get, std::string(kShopPath),
             [&s](RequestContext& ctx) { return shop(s, ctx); });
}

}  // namespace waitroom::api
