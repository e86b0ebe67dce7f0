#include "api/gate_api.hpp"

#include "api/cookies.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "token/base64url.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using core::ErrorCode;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::size_t kMaxPassBytes = 8192;

// The `sub` (ticket) of a JWT, read without checking the signature: the store compares the whole
// token with the pass it issued for that ticket, which is the check. So a plain scan of the
// payload for "sub" is enough (a token it misreads cannot match), and it is the gate's hot path.
std::optional<std::string> unverified_subject(std::string_view token) {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto payload = token::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  constexpr std::string_view kSub = "\"sub\":\"";
  const auto at = payload->find(kSub);
  if (at == std::string::npos) return std::nullopt;
  const auto begin = at + kSub.size();
  const auto end = payload->find('"', begin);
  if (end == std::string::npos) return std::nullopt;
  return payload->substr(begin, end - begin);
}

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

bool wants_html(const http::Request& req) {
  return http::header_value(req, "Accept").find("text/html") != std::string_view::npos;
}

Response deny(Services& s, RequestContext& ctx, const std::string& room, std::string_view why) {
  const std::string mode = http::query_param(ctx.query, "on_fail").value_or("auto");
  if (mode == "302" || (mode == "auto" && wants_html(ctx.request)))
    return http::redirect(ctx.request, Status::found, room_page_url(s, room, original_url(ctx.request)));
  Response res = http::problem(ctx.request, Status::unauthorized, why);
  res.set(http::beast_http::field::www_authenticate, "Bearer realm=\"waitroom\", error=\"invalid_token\"");
  res.set("X-Waitroom-Room-Url", room_page_url(s, room, original_url(ctx.request)));
  return res;
}

asio::awaitable<Response> check(Services& s, RequestContext& ctx) {
  auto room = http::query_param(ctx.query, "room");
  if (!room || !core::is_valid_room_name(*room))
    co_return http::problem(ctx.request, Status::bad_request, "give the room: ?room=NAME");
  const std::string mode = http::query_param(ctx.query, "on_fail").value_or("auto");
  if (mode != "auto" && mode != "401" && mode != "302")
    co_return http::problem(ctx.request, Status::bad_request, "on_fail must be auto, 401 or 302");
  std::string why;
  std::optional<store::PassCheck> passed = co_await live_pass(s, ctx.request, *room, why);
  if (!passed) {
    // Only refusals pay for telling an unknown room (a misconfigured proxy) from a missing pass.
    auto known = co_await s.store.room(*room);
    if (!known) co_return http::problem(ctx.request, known.error());
    co_return deny(s, ctx, *room, why);
  }
  Response res{Status::no_content, ctx.request.version()};
  res.set("X-Waitroom-Room", *room);
  res.set("X-Waitroom-Ticket", passed->ticket);
  res.set("X-Waitroom-Expires", std::to_string(passed->expires_at_s));
  res.set(http::beast_http::field::cache_control, "no-store");
  res.keep_alive(ctx.request.keep_alive());
  res.prepare_payload();
  co_return res;
}

std::string_view origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto path = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, path);
}

}  // namespace

asio::awaitable<std::optional<store::PassCheck>> live_pass(Services& s, const http::Request& req,
                                                           const std::string& room, std::string& why) {
  std::string_view token = http::bearer_token(req);
  if (token.empty()) token = http::cookie_value(req, pass_cookie_name(room));
  if (token.empty()) {
    why = "no pass for this room";
  } else if (token.size() > kMaxPassBytes) {
    why = "the pass is too large";
  } else if (auto ticket = unverified_subject(token); !ticket) {
    why = "the pass is malformed";
  } else {
    auto checked = co_await s.store.check_pass(room, std::move(*ticket), std::string(token));
    if (checked) co_return std::move(*checked);
    why = checked.error().code == ErrorCode::gone ? checked.error().detail : "not a valid pass for this room";
  }
  co_return std::nullopt;
}

std::string room_page_url(const Services& s, std::string_view room, std::string_view return_url) {
  std::string url = s.config.public_url + "/r/" + std::string(room);
  if (!return_url.empty()) url += "?return=" + http::percent_encode(return_url);
  return url;
}

std::optional<std::string> safe_return(std::string_view candidate, std::string_view target_url) {
  if (candidate.empty() || candidate.size() > 4096) return std::nullopt;
  for (char c : candidate)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return std::nullopt;
  if (candidate[0] == '/') {
    if (candidate.size() > 1 && candidate[1] == '/') return std::nullopt;  // //evil.example
    return std::string(candidate);
  }
  const std::string_view origin = origin_of(candidate);
  if (!origin.empty() && origin == origin_of(target_url) &&
      (candidate.size() == origin.size() || candidate[origin.size()] == '/' || candidate[origin.size()] == '?'))
    return std::string(candidate);
  return std::nullopt;
}

void add_gate_routes(http::Router& router, Services& s) {
  router.add(http::Method::get, s.config.gate_path, [&s](RequestContext& ctx) { return check(s, ctx); });
}

}  // namespace waitroom::api
