#include "api/aws_common.hpp"

#include "http/problem.hpp"
#include "http/query.hpp"
#include "token/jws.hpp"
#include "visitor/visitor_pass.hpp"

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
}  // namespace

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
asio::awaitable<core::Result<store::RoomView>> event_room(const AwsDeps& s,
                                                          std::string_view query) {
  auto event = http::query_param(query, "event_id");
  if (!event) co_return core::fail(ErrorCode::not_found, "no event_id");
  auto room = co_await s.store.room(std::move(*event));
  co_return room;
}

// The access token is the room's pass for the ticket; refresh and id tokens carry the same claims
// and kid with another token_use. RS256 signatures are deterministic, so for RS256 rooms all three
// are byte-identical when asked for again, as AWS's were.
core::Result<json::object> token_set(const AwsDeps& s, const std::string& access,
                                     std::int64_t expires_in) {
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

asio::awaitable<Response> generate_token(const AwsDeps& s, RequestContext& ctx,
                                         PassOptionsReader read_options, bool caller_is_visitor) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  auto id = body ? body_string(*body, "request_id") : std::nullopt;
  if (!event || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  auto room = co_await s.store.room(*event);
  if (!room) co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  auto options = read_options(*body);
  if (!options) co_return aws_error(ctx.request, Status::bad_request, options.error().detail);
  // The public route's caller is the visitor: a room binding passes by network binds to theirs.
  // (The private route's caller is a back end, whose network the visitor does not share.)
  if (caller_is_visitor)
    options->client_prefix = co_await s.abuse.client_prefix(ctx.request, ctx.remote, *event);
  auto pass = co_await s.store.issue_pass(*event, *id, std::move(*options));
  if (!pass) {
    switch (pass.error().code) {
      case ErrorCode::not_found:
        co_return aws_error(ctx.request, Status::bad_request, "Invalid request ID");
      case ErrorCode::conflict:
        co_return aws_error(ctx.request, Status::accepted, "Request ID not being served yet");
      case ErrorCode::gone: {
        // Which of AWS's two 410s: the position ran out before a token, or the token's session.
        auto t = co_await s.store.ticket(*event, *id);
        if (t && !t->state.has_pass)
          co_return aws_error(ctx.request, Status::gone, "Queue position has expired");
        co_return aws_error(ctx.request, Status::gone,
                            "Token corresponding to request id has expired");
      }
      default:
        co_return aws_error(ctx.request, http::status_of(pass.error().code), pass.error().detail);
    }
  }
  auto set = token_set(s, pass->pass, pass->expires_in_s);
  if (!set) co_return aws_error(ctx.request, http::status_of(set.error().code), set.error().detail);
  Response res = aws_json(ctx.request, Status::ok, *set);
  if (auto c = visitor::binding_cookie(s, *event, room->settings.pass_cookie, pass->pass, *id))
    res.set(http::beast_http::field::set_cookie, *c);
  co_return res;
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

}  // namespace waitroom::api
