#include "api/public_api.hpp"

#include "api/json_io.hpp"
#include "http/problem.hpp"
#include "visitor/cookies.hpp"
#include "visitor/status_json.hpp"
#include "visitor/visitor_pass.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using http::Request;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

// A body string field, or "" when absent or not a string (the proof-of-work check names it).
std::string_view text_field(const boost::json::object& body, std::string_view name) {
  const boost::json::value* v = body.if_contains(name);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

asio::awaitable<Response> create_ticket(const visitor::VisitorDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  auto admitted = co_await s.abuse.admit_ticket(ctx.request, ctx.remote, room,
                                                text_field(*body, "pow_challenge"),
                                                text_field(*body, "pow_nonce"));
  if (!admitted) co_return http::problem(ctx.request, admitted.error());
  std::optional<std::string> existing;
  if (auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room)); !c.empty())
    existing = std::string(c);
  store::JoinOptions options;
  for (auto [name, grant] : {std::pair{"code", &options.code}, {"invite", &options.invitation}}) {
    if (const boost::json::value* v = body->if_contains(name)) {
      if (!v->is_string())
        co_return http::problem(ctx.request, Status::bad_request,
                                std::string(name) + " must be a string");
      *grant = std::string(v->get_string());
    }
  }
  if (const boost::json::value* v = body->if_contains("party_size")) {
    if (!v->is_int64() || v->get_int64() < 1)
      co_return http::problem(ctx.request, Status::bad_request,
                              "party_size must be a whole number of at least 1");
    options.party_size = static_cast<std::uint64_t>(v->get_int64());
  }
  if (options.invitation)
    options.client = co_await s.abuse.client_address(ctx.request, ctx.remote, room);
  const std::optional<std::string> held = existing;
  auto result =
      co_await s.store.enqueue(room, std::move(existing), /*tracks_presence=*/true, options);
  if (!result) {
    if (result.error().code == core::ErrorCode::full)
      s.abuse.count(room, visitor::Refusal::room_full);
    co_return http::problem(ctx.request, result.error());
  }
  Response res = http::json_response(ctx.request, result->created ? Status::created : Status::ok,
                                     visitor::ticket_json(result->ticket, false));
  // A new place, or an identity's place from another device: this browser holds it from now on.
  if (result->created || result->ticket.ticket != held) {
    res.set(http::beast_http::field::set_cookie,
            visitor::set_cookie(visitor::ticket_cookie_name(room), result->ticket.ticket,
                                s.config.cookie_secure));
    res.set(http::beast_http::field::location,
            "/v1/rooms/" + room + "/tickets/" + result->ticket.ticket);
  }
  co_return res;
}

asio::awaitable<Response> get_ticket(const visitor::VisitorDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto admitted = co_await s.abuse.admit_poll(ctx.request, ctx.remote, room);
  if (!admitted) co_return http::problem(ctx.request, admitted.error());
  auto t = co_await s.store.ticket(room, std::string(ctx.param("ticket")));
  if (!t) co_return http::problem(ctx.request, t.error());
  Response res = http::json_response(ctx.request, Status::ok, visitor::ticket_json(*t, true));
  if (t->state.status == core::TicketStatus::waiting)
    res.set(http::beast_http::field::retry_after, std::to_string(core::kNotYetRetryAfterS));
  co_return res;
}

asio::awaitable<Response> issue_pass(const visitor::VisitorDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room")), ticket(ctx.param("ticket"));
  store::PassOptions options;
  options.client_prefix = co_await s.abuse.client_prefix(ctx.request, ctx.remote, room);
  auto p = co_await s.store.issue_pass(room, ticket, std::move(options));
  if (!p) co_return http::problem(ctx.request, p.error());
  Response res = json_ok(ctx.request, boost::json::object{{"pass", p->pass},
                                                          {"expires_at", p->expires_at_s},
                                                          {"expires_in", p->expires_in_s}});
  // A pass bound by cookie works only with its binding cookie: a browser gets it here.
  if (visitor::is_cookie_bound(p->pass)) {
    auto cookie = co_await s.store.pass_cookie(room);
    if (cookie)
      if (auto c = visitor::binding_cookie(s, room, *cookie, p->pass, ticket))
        res.set(http::beast_http::field::set_cookie, *c);
  }
  co_return res;
}

// A proof-of-work challenge for the room (docs/security.md); difficulty_bits 0: none is needed.
asio::awaitable<Response> get_challenge(const visitor::VisitorDeps& s, RequestContext& ctx) {
  auto c = co_await s.abuse.challenge(std::string(ctx.param("room")));
  if (!c) co_return http::problem(ctx.request, c.error());
  Response res =
      json_ok(ctx.request, boost::json::object{{"challenge", c->text},
                                               {"difficulty_bits", c->bits},
                                               {"expires_at", c->expires_at_s},
                                               {"algorithm", "sha256-leading-zero-bits"}});
  res.set(http::beast_http::field::cache_control, "no-store");
  co_return res;
}

asio::awaitable<Response> get_room(const visitor::VisitorDeps& s, RequestContext& ctx) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, visitor::room_json(*r));
}

// The commitments and seeds of this epoch's pre-queue shuffles, for anyone to audit.
asio::awaitable<Response> get_draws(const visitor::VisitorDeps& s, RequestContext& ctx) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  boost::json::array draws;
  for (const auto& d : r->draws) draws.push_back(visitor::draw_json(d));
  co_return json_ok(
      ctx.request,
      boost::json::object{{"room", r->name}, {"epoch", r->epoch}, {"draws", std::move(draws)}});
}

// Leave and come back (docs/notifications.md): the visitor's choice of notice, set or cancelled.
asio::awaitable<Response> put_notice(const visitor::VisitorDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto admitted = co_await s.abuse.admit_poll(ctx.request, ctx.remote, room);
  if (!admitted) co_return http::problem(ctx.request, admitted.error());
  if (!s.notices)
    co_return http::problem(ctx.request, Status::conflict, "this server sends no notifications");
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  auto request = visitor::read_notice_request(*body, *s.notices);
  if (!request) co_return http::problem(ctx.request, request.error());
  auto t = co_await s.store.set_notice(room, std::string(ctx.param("ticket")), std::move(*request));
  if (!t) co_return http::problem(ctx.request, t.error());
  co_return http::json_response(ctx.request, Status::ok, visitor::ticket_json(*t, true));
}

asio::awaitable<Response> delete_notice(const visitor::VisitorDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto admitted = co_await s.abuse.admit_poll(ctx.request, ctx.remote, room);
  if (!admitted) co_return http::problem(ctx.request, admitted.error());
  auto t = co_await s.store.cancel_notice(room, std::string(ctx.param("ticket")));
  if (!t) co_return http::problem(ctx.request, t.error());
  co_return http::json_response(ctx.request, Status::ok, visitor::ticket_json(*t, true));
}

// What this server can notify by, and the VAPID key browsers subscribe with.
asio::awaitable<Response> get_notify_setup(const visitor::VisitorDeps& s, RequestContext& ctx) {
  boost::json::array channels;
  boost::json::value push = nullptr;
  if (s.notices) {
    for (const std::string& c : s.notices->channels()) channels.emplace_back(c);
    if (auto key = s.notices->push_key())
      push = boost::json::object{{"key_id", key->key_id}, {"public_key", key->public_key}};
  }
  Response res = json_ok(ctx.request, boost::json::object{{"channels", std::move(channels)},
                                                          {"push", std::move(push)}});
  res.set(http::beast_http::field::cache_control, "no-cache");
  co_return res;
}

}  // namespace

void add_public_routes(http::Router& router, const visitor::VisitorDeps& s) {
  using http::Method;
  router.add(Method::post, "/v1/rooms/{room}/tickets",
             [&s](RequestContext& ctx) { return create_ticket(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}/tickets/{ticket}",
             [&s](RequestContext& ctx) { return get_ticket(s, ctx); });
  router.add(Method::post, "/v1/rooms/{room}/tickets/{ticket}/pass",
             [&s](RequestContext& ctx) { return issue_pass(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}",
             [&s](RequestContext& ctx) { return get_room(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}/challenge",
             [&s](RequestContext& ctx) { return get_challenge(s, ctx); });
  router.add(Method::get, "/v1/rooms/{room}/draws",
             [&s](RequestContext& ctx) { return get_draws(s, ctx); });
  router.add(Method::put, "/v1/rooms/{room}/tickets/{ticket}/notify",
             [&s](RequestContext& ctx) { return put_notice(s, ctx); });
  router.add(Method::delete_, "/v1/rooms/{room}/tickets/{ticket}/notify",
             [&s](RequestContext& ctx) { return delete_notice(s, ctx); });
  router.add(Method::get, "/v1/notify",
             [&s](RequestContext& ctx) { return get_notify_setup(s, ctx); });
}

}  // namespace waitroom::api
