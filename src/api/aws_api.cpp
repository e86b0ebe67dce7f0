#include "api/aws_api.hpp"

#include <boost/json.hpp>

#include "http/problem.hpp"
#include "http/query.hpp"
#include "token/algorithm.hpp"
#include "token/jws.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::string_view kCorsAllowHeaders =
    "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token";

// AWS's answers: JSON with `Access-Control-Allow-Origin: *`, errors as {"error": "..."}.
Response aws_json(const http::Request& req, Status status, const json::value& body) {
  Response res = http::json_response(req, status, json::serialize(body));
  res.set(http::beast_http::field::access_control_allow_origin, "*");
  return res;
}

Response aws_error(const http::Request& req, Status status, std::string_view message) {
  return aws_json(req, status, json::object{{"error", message}});
}

// AWS matched request ids with an unanchored-at-the-end regex, so "<uuid>garbage" passed; we
// accept exactly the 36-character form our ticket ids have.
bool is_request_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// event_id from the query (GET) or the JSON body (POST); nullopt when missing or not a string.
std::optional<std::string> body_string(const json::object& body, std::string_view field) {
  const json::value* v = body.if_contains(field);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<json::object> body_object(const http::Request& req) {
  json::error_code ec;
  json::value v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

// The room named by the query's event_id. (co_await is kept out of ?: and || on purpose: g++ 12's
// coroutine lowering has been unreliable there.)
asio::awaitable<core::Result<store::RoomView>> event_room(Services& s, std::string_view query) {
  auto event = http::query_param(query, "event_id");
  if (!event) co_return core::fail(ErrorCode::not_found, "no event_id");
  auto room = co_await s.store.room(std::move(*event));
  co_return room;
}

asio::awaitable<Response> assign_queue_num(Services& s, RequestContext& ctx) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  if (!event) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  // Synchronous, unlike AWS's SQS path: the id is in line when this answers, and an unknown
  // event uses no position.
  auto result = co_await s.store.enqueue(*event, std::nullopt);
  if (!result) {
    if (result.error().code == ErrorCode::not_found)
      co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
    co_return aws_error(ctx.request, http::status_of(result.error().code), result.error().detail);
  }
  co_return aws_json(ctx.request, Status::ok, json::object{{"api_request_id", result->ticket.ticket}});
}

asio::awaitable<Response> queue_num(Services& s, RequestContext& ctx) {
  auto event = http::query_param(ctx.query, "event_id");
  auto id = http::query_param(ctx.query, "request_id");
  if (!event || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
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

asio::awaitable<Response> serving_num(Services& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  // A number, where AWS sent Redis's string ("120").
  co_return aws_json(ctx.request, Status::ok, json::object{{"serving_counter", r->counters.serving}});
}

asio::awaitable<Response> waiting_num(Services& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  const core::RoomCounters& c = r->counters;
  const std::uint64_t waiting = c.queue_counter > c.passes_issued ? c.queue_counter - c.passes_issued : 0;
  co_return aws_json(ctx.request, Status::ok, json::object{{"waiting_num", waiting}});
}

asio::awaitable<Response> queue_pos_expiry(Services& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  auto id = http::query_param(ctx.query, "request_id");
  if (!r || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  co_return aws_error(ctx.request, Status::accepted, "Queue position expiration not enabled");
}

asio::awaitable<Response> public_key(Services& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid request ID");  // sic, AWS's
  auto alg = token::parse_algorithm(r->settings.algorithm);
  if (!alg) co_return aws_error(ctx.request, Status::internal_server_error, "room has no algorithm");
  co_return aws_json(ctx.request, Status::ok, s.keys.public_jwk(s.keys.active_kid(*alg)));
}

// The access token is the room's pass for the ticket; refresh and id tokens carry the same claims
// and kid with another token_use. RS256 signatures are deterministic, so for RS256 rooms all three
// are byte-identical when asked for again, as AWS's were.
core::Result<json::object> token_set(Services& s, const std::string& access, std::int64_t expires_in) {
  auto claims = s.keys.verify(access);
  if (!claims) return std::unexpected(claims.error());
  auto parsed = token::parse_jwt(access);
  if (!parsed) return std::unexpected(parsed.error());
  json::object set{{"access_token", access}};
  for (const char* use : {"refresh", "id"}) {
    json::object c = *claims;
    c["token_use"] = use;
    auto signed_token = s.keys.sign_with(parsed->kid, c);
    if (!signed_token) return std::unexpected(signed_token.error());
    set[std::string(use) + "_token"] = std::move(*signed_token);
  }
  set["token_type"] = "Bearer";
  set["expires_in"] = expires_in;
  return set;
}

asio::awaitable<Response> generate_token(Services& s, RequestContext& ctx) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  auto id = body ? body_string(*body, "request_id") : std::nullopt;
  if (!event || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  auto room = co_await s.store.room(*event);
  if (!room) co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  auto pass = co_await s.store.issue_pass(*event, *id);
  if (!pass) {
    switch (pass.error().code) {
      case ErrorCode::not_found:
        co_return aws_error(ctx.request, Status::bad_request, "Invalid request ID");
      case ErrorCode::conflict:
        co_return aws_error(ctx.request, Status::accepted, "Request ID not being served yet");
      case ErrorCode::gone:
        co_return aws_error(ctx.request, Status::gone, "Token corresponding to request id has expired");
      default:
        co_return aws_error(ctx.request, http::status_of(pass.error().code), pass.error().detail);
    }
  }
  auto set = token_set(s, pass->pass, pass->expires_in_s);
  if (!set) co_return aws_error(ctx.request, http::status_of(set.error().code), set.error().detail);
  co_return aws_json(ctx.request, Status::ok, *set);
}

// AWS answered OPTIONS from API Gateway mocks with these CORS headers.
http::Handler cors_preflight(std::string_view methods) {
  return [methods](RequestContext& ctx) -> asio::awaitable<Response> {
    Response res{Status::ok, ctx.request.version()};
    res.set(http::beast_http::field::access_control_allow_origin, "*");
    res.set(http::beast_http::field::access_control_allow_methods, methods);
    res.set(http::beast_http::field::access_control_allow_headers, kCorsAllowHeaders);
    res.set(http::beast_http::field::content_type, "application/json");
    res.keep_alive(ctx.request.keep_alive());
    res.prepare_payload();
    co_return res;
  };
}

}  // namespace

void add_aws_public_routes(http::Router& router, Services& s) {
  using http::Method;
  using Fn = asio::awaitable<Response> (*)(Services&, RequestContext&);
  const std::string& prefix = s.config.aws_prefix;
  auto add = [&](Method method, std::string_view path, Fn fn) {
    router.add(method, prefix + std::string(path), [&s, fn](RequestContext& c) { return fn(s, c); });
    router.add(Method::options, prefix + std::string(path),
               cors_preflight(method == Method::post ? "OPTIONS,POST" : "GET,OPTIONS"));
  };
  add(Method::post, "/assign_queue_num", assign_queue_num);
  add(Method::get, "/queue_num", queue_num);
  add(Method::get, "/serving_num", serving_num);
  add(Method::get, "/waiting_num", waiting_num);
  add(Method::get, "/queue_pos_expiry", queue_pos_expiry);
  add(Method::get, "/public_key", public_key);
  add(Method::post, "/generate_token", generate_token);
}

}  // namespace waitroom::api
