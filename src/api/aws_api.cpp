#include "api/aws_api.hpp"

#include <boost/json.hpp>

#include "api/aws_common.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "token/algorithm.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

// A refusal of the room's abuse protection, in AWS's error shape.
Response aws_refusal(const http::Request& req, const core::Error& e) {
  Response res = aws_error(req, http::status_of(e.code), e.detail);
  if (e.retry_after_s > 0)
    res.set(http::beast_http::field::retry_after, std::to_string(e.retry_after_s));
  return res;
}

asio::awaitable<core::Result<void>> admit_poll(const AwsDeps& s, RequestContext& ctx,
                                               const std::string& room) {
  co_return co_await s.abuse.admit_poll(ctx.request, ctx.remote, room);
}

asio::awaitable<Response> assign_queue_num(const AwsDeps& s, RequestContext& ctx) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  if (!event) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  // A room asking for proof of work asks AWS clients too (the same two fields in the body).
  const std::string challenge = body_string(*body, "pow_challenge").value_or("");
  const std::string nonce = body_string(*body, "pow_nonce").value_or("");
  auto admitted = co_await s.abuse.admit_ticket(ctx.request, ctx.remote, *event, challenge, nonce);
  if (!admitted) co_return aws_refusal(ctx.request, admitted.error());
  // Synchronous, unlike AWS's SQS path: the id is in line when this answers, and an unknown
  // event uses no position.
  auto result = co_await s.store.enqueue(*event, std::nullopt, /*tracks_presence=*/false);
  if (!result) {
    if (result.error().code == ErrorCode::not_found)
      co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
    co_return aws_error(ctx.request, http::status_of(result.error().code), result.error().detail);
  }
  co_return aws_json(ctx.request, Status::ok,
                     json::object{{"api_request_id", result->ticket.ticket}});
}

asio::awaitable<Response> queue_num(const AwsDeps& s, RequestContext& ctx) {
  auto event = http::query_param(ctx.query, "event_id");
  auto id = http::query_param(ctx.query, "request_id");
  if (!event || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  auto admitted = co_await admit_poll(s, ctx, *event);
  if (!admitted) co_return aws_refusal(ctx.request, admitted.error());
  auto room = co_await s.store.room(*event);
  if (!room) co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  auto t = co_await s.store.ticket(*event, *id);
  if (!t) {
    // AWS answered 202 while its queue caught up; ours is synchronous, so unknown is unknown.
    if (t.error().code == ErrorCode::not_found || t.error().code == ErrorCode::gone)
      co_return aws_error(ctx.request, Status::not_found, "Request ID not found");
    co_return aws_error(ctx.request, http::status_of(t.error().code), t.error().detail);
  }
  co_return aws_json(ctx.request, Status::ok,
                     json::object{{"queue_number", t->state.position},
                                  {"entry_time", t->state.entry_time_s},
                                  {"event_id", t->room},
                                  {"status", 1}});
}

asio::awaitable<Response> serving_num(const AwsDeps& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  auto admitted = co_await admit_poll(s, ctx, r->name);
  if (!admitted) co_return aws_refusal(ctx.request, admitted.error());
  // A number, where AWS sent Redis's string ("120"); a room setting restores the string.
  json::value serving = r->counters.serving;
  if (r->settings.aws_serving_counter_as_string) serving = std::to_string(r->counters.serving);
  co_return aws_json(ctx.request, Status::ok,
                     json::object{{"serving_counter", std::move(serving)}});
}

asio::awaitable<Response> waiting_num(const AwsDeps& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  auto admitted = co_await admit_poll(s, ctx, r->name);
  if (!admitted) co_return aws_refusal(ctx.request, admitted.error());
  const core::RoomCounters& c = r->counters;
  const std::uint64_t waiting =
      c.queue_counter > c.passes_issued ? c.queue_counter - c.passes_issued : 0;
  co_return aws_json(ctx.request, Status::ok, json::object{{"waiting_num", waiting}});
}

asio::awaitable<Response> queue_pos_expiry(const AwsDeps& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  auto id = http::query_param(ctx.query, "request_id");
  if (!r || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  const std::int64_t period = r->settings.claim_timeout_s;
  if (period <= 0)
    co_return aws_error(ctx.request, Status::accepted, "Queue position expiration not enabled");
  auto t = co_await s.store.ticket(r->name, *id);
  if (!t) co_return aws_error(ctx.request, Status::not_found, "Invalid request ID");
  const core::TicketState& st = t->state;
  if (st.status == core::TicketStatus::waiting)
    co_return aws_error(ctx.request, Status::accepted, "Request ID not being served yet");
  // Unlike AWS, a visitor who already holds a token is never told that the position expired.
  if (!st.has_pass && (st.status == core::TicketStatus::expired || !st.admitted_at_s))
    co_return aws_error(ctx.request, Status::gone, "Queue position has expired");
  const std::int64_t since = std::max(st.entry_time_s, st.admitted_at_s.value_or(st.entry_time_s));
  const std::int64_t left = std::max<std::int64_t>(period - (s.clock.now_s() - since), 0);
  co_return aws_json(ctx.request, Status::ok, json::object{{"expires_in", left}});
}

asio::awaitable<Response> public_key(const AwsDeps& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r)
    co_return aws_error(ctx.request, Status::bad_request, "Invalid request ID");  // sic, AWS's
  auto alg = token::parse_algorithm(r->settings.algorithm);
  if (!alg)
    co_return aws_error(ctx.request, Status::internal_server_error, "room has no algorithm");
  co_return aws_json(ctx.request, Status::ok, s.keys.public_jwk(s.keys.active_kid(*alg)));
}

}  // namespace

void add_aws_public_routes(http::Router& router, const AwsDeps& s) {
  using http::Method;
  using Fn = asio::awaitable<Response> (*)(const AwsDeps&, RequestContext&);
  const std::string& prefix = s.config.aws_prefix;
  auto add = [&](Method method, std::string_view path, Fn fn) {
    router.add(method, prefix + std::string(path),
               [&s, fn](RequestContext& c) { return fn(s, c); });
    router.add(Method::options, prefix + std::string(path),
               cors_preflight(method == Method::post ? "OPTIONS,POST" : "GET,OPTIONS"));
  };
  add(Method::post, "/assign_queue_num", assign_queue_num);
  add(Method::get, "/queue_num", queue_num);
  add(Method::get, "/serving_num", serving_num);
  add(Method::get, "/waiting_num", waiting_num);
  add(Method::get, "/queue_pos_expiry", queue_pos_expiry);
  add(Method::get, "/public_key", public_key);
  add(Method::post, "/generate_token", [](const AwsDeps& sv, RequestContext& c) {
    // The public endpoint ignores issuer and validity_period, as AWS's did.
    return generate_token(
        sv, c,
        [](const json::object&) -> core::Result<store::PassOptions> {
          return store::PassOptions{};
        },
        true);
  });
}

}  // namespace waitroom::api
