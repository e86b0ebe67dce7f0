#include "api/public_api.hpp"

#include "api/cookies.hpp"
#include "api/json_io.hpp"
#include "http/problem.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

asio::awaitable<Response> create_ticket(Services& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  if (auto body = read_json_object(ctx.request); !body) co_return http::problem(ctx.request, body.error());
  std::optional<std::string> existing;
  if (auto c = http::cookie_value(ctx.request, ticket_cookie_name(room)); !c.empty()) existing = std::string(c);
  auto result = co_await s.store.enqueue(room, std::move(existing), /*tracks_presence=*/true);
  if (!result) co_return http::problem(ctx.request, result.error());
  Response res = http::json_response(ctx.request, result->created ? Status::created : Status::ok,
                                     ticket_json(result->ticket, false));
  if (result->created) {
    res.set(http::beast_http::field::set_cookie,
            set_cookie(ticket_cookie_name(room), result->ticket.ticket, s.config.cookie_secure));
    res.set(http::beast_http::field::location,
            "/v1/rooms/" + room + "/tickets/" + result->ticket.ticket);
  }
  co_return res;
}

asio::awaitable<Response> get_ticket(Services& s, RequestContext& ctx) {
  auto t = co_await s.store.ticket(std::string(ctx.param("room")), std::string(ctx.param("ticket")));
  if (!t) co_return http::problem(ctx.request, t.error());
  Response res = http::json_response(ctx.request, Status::ok, ticket_json(*t, true));
  if (t->state.status == core::TicketStatus::waiting)
    res.set(http::beast_http::field::retry_after, std::to_string(core::kNotYetRetryAfterS));
  co_return res;
}

asio::awaitable<Response> issue_pass(Services& s, RequestContext& ctx) {
  auto p = co_await s.store.issue_pass(std::string(ctx.param("room")), std::string(ctx.param("ticket")), {});
  if (!p) co_return http::problem(ctx.request, p.error());
  co_return json_ok(ctx.request, boost::json::object{{"pass", p->pass},
                                                     {"expires_at", p->expires_at_s},
                                                     {"expires_in", p->expires_in_s}});
}

asio::awaitable<Response> get_room(Services& s, RequestContext& ctx) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, room_json(*r));
}

// The commitments and seeds of this epoch's pre-queue shuffles, for anyone to audit.
asio::awaitable<Response> get_draws(Services& s, RequestContext& ctx) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  boost::json::array draws;
  for (const auto& d : r->draws) draws.push_back(draw_json(d));
  co_return json_ok(ctx.request, boost::json::object{{"room", r->name}, {"epoch", r->epoch}, {"draws", std::move(draws)}});
}

}  // namespace

void add_public_routes(http::Router& router, Services& s) {
  using http::Method;
  router.add(Method::post, "/v1/rooms/{room}/tickets",
             [&s](RequestContext& ctx) { return create_ticket(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}/tickets/{ticket}",
             [&s](RequestContext& ctx) { return get_ticket(s, ctx); });
  router.add(Method::post, "/v1/rooms/{room}/tickets/{ticket}/pass",
             [&s](RequestContext& ctx) { return issue_pass(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}", [&s](RequestContext& ctx) { return get_room(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}/draws", [&s](RequestContext& ctx) { return get_draws(s, ctx); });
}

}  // namespace waitroom::api
