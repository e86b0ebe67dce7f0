#include "web/sign_in.hpp"

#include <charconv>

#include "http/problem.hpp"
#include "http/query.hpp"
#include "ops/log.hpp"
#include "store/sign_in_providers.hpp"
#include "token/pkce.hpp"
#include "visitor/cookies.hpp"
#include "web/page_view.hpp"

namespace waitroom::web {

namespace asio = boost::asio;
using core::ErrorCode;
using http::RequestContext;
using http::Response;
using http::Status;
namespace field = http::beast_http;

namespace {

std::string state_cookie_name(std::string_view room) {
  return "waitroom-login-" + std::string(room);
}

// Only the callback needs it back; it lives as long as the visitor may take at the provider.
std::string state_cookie(const RoomPageDeps& s, std::string_view room, std::string_view value,
                         std::int64_t max_age_s) {
  std::string c = state_cookie_name(room) + "=" + std::string(value) + "; Path=/r/" +
                  std::string(room) + "/login; Max-Age=" + std::to_string(max_age_s) +
                  "; HttpOnly; SameSite=Lax";
  if (s.config.cookie_secure) c += "; Secure";
  return c;
}

std::string query(RequestContext& ctx, std::string_view name) {
  return http::query_param(ctx.query, name).value_or("");
}

// The room, if it signs visitors in (not_found otherwise).
asio::awaitable<core::Result<store::RoomView>> room_with_sign_in(const RoomPageDeps& s,
                                                                 const std::string& room) {
  auto r = co_await s.store.room(room);
  if (r && (!r->settings.login || s.sign_in == nullptr))
    co_return core::fail(ErrorCode::not_found,
                         "room " + room + " has no sign-in (its login setting is not set)");
  co_return r;
}

asio::awaitable<Response> start(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await room_with_sign_in(s, room);
  if (!r) co_return http::problem(ctx.request, r.error());
  const core::LoginSettings& login = *r->settings.login;
  const std::string base = public_base(s, ctx.request);
  if (base.empty())
    co_return http::problem(ctx.request, Status::bad_request,
                            "no public_url is set and the request's Host cannot stand in for it");
  auto state = new_sign_in_state(room, s.clock.now_ms() / 1000);
  if (!state)
    co_return http::problem(ctx.request, Status::internal_server_error,
                            "no random numbers for the sign-in");
  state->return_url = query(ctx, "return");
  state->lang = std::string(site.languages().code_of(query(ctx, "lang")));
  if (std::string party = query(ctx, "party_size"); !party.empty()) {
    std::uint64_t seats = 0;
    auto [end, ec] = std::from_chars(party.data(), party.data() + party.size(), seats);
    if (ec == std::errc{} && end == party.data() + party.size() && seats >= 1)
      state->party_size = seats;
  }
  auto endpoints = co_await s.sign_in->endpoints(login.issuer);
  if (!endpoints) {
    Response page =
        co_await page_with_notice(s, site, ctx, room, "signin_unavailable",
                                  Status::service_unavailable, state->return_url, state->lang);
    page.set(field::field::retry_after, std::to_string(endpoints.error().retry_after_s));
    co_return page;
  }
  const std::string& authorize = endpoints->authorization_endpoint;
  const std::string location =
      authorize + (authorize.find('?') == std::string::npos ? "?" : "&") +
      "response_type=code&client_id=" + http::percent_encode(login.client_id) +
      "&redirect_uri=" + http::percent_encode(base + "/r/" + room + "/login/callback") +
      "&scope=" + http::percent_encode(login.scope) + "&state=" + state->state +
      "&nonce=" + state->nonce + "&code_challenge=" + token::s256_challenge(state->verifier) +
      "&code_challenge_method=S256";
  Response res = http::redirect(ctx.request, Status::see_other, location);
  res.set(field::field::set_cookie,
          state_cookie(s, room, site.sign_in_states().seal(*state), kSignInStateLifetimeS));
  res.set(field::field::cache_control, "no-store");
  co_return res;
}

asio::awaitable<Response> callback(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await room_with_sign_in(s, room);
  if (!r) co_return http::problem(ctx.request, r.error());
  const std::int64_t now_s = s.clock.now_ms() / 1000;
  const auto sealed = http::cookie_value(ctx.request, state_cookie_name(room));
  const auto state = site.sign_in_states().open(sealed, room, now_s);
  const std::string return_url = state ? state->return_url : "";
  const std::string lang = state ? state->lang : "";
  // The room's page with why no place was taken; whatever happens, this sign-in's state is spent.
  auto refused = [&](std::string_view notice, Status status) -> asio::awaitable<Response> {
    Response page = co_await page_with_notice(s, site, ctx, room, std::string(notice), status,
                                              return_url, lang);
    page.insert(field::field::set_cookie, state_cookie(s, room, "", 0));
    co_return page;
  };
  // Not a sign-in this browser started here (or one that took too long): nothing to finish.
  if (!state || query(ctx, "state") != state->state)
    co_return co_await refused("signin_failed", Status::bad_request);
  if (const std::string error = query(ctx, "error"); !error.empty())
    co_return co_await refused(error == "access_denied" ? "signin_cancelled" : "signin_failed",
                               error == "access_denied" ? Status::ok : Status::unauthorized);
  const std::string code = query(ctx, "code");
  if (code.empty()) co_return co_await refused("signin_failed", Status::bad_request);
  // A cookie put back after its sign-in finished, even with a new code for the same request.
  if (!s.sign_in->spend(state->state, state->expires_at_s))
    co_return co_await refused("signin_failed", Status::bad_request);
  const std::string redirect_uri = public_base(s, ctx.request) + "/r/" + room + "/login/callback";
  // Named, not braced in the call: g++ 12 destroys a braced coroutine argument twice.
  store::CodeRedemption redemption{code, redirect_uri, state->verifier, state->nonce};
  core::LoginSettings login = *r->settings.login;
  auto account = co_await s.sign_in->redeem(std::move(login), std::move(redemption));
  if (!account) {
    ops::log_info("a sign-in was refused", {{"room", room}, {"why", account.error().detail}});
    if (account.error().code == ErrorCode::unavailable)
      co_return co_await refused("signin_unavailable", Status::service_unavailable);
    co_return co_await refused("signin_failed", Status::unauthorized);
  }
  std::optional<std::string> existing;
  if (auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room)); !c.empty())
    existing = std::string(c);
  store::JoinOptions options;
  options.signed_in = engine::SignedIn{account->sub, account->exp_s};
  options.party_size = state->party_size;
  auto joined =
      co_await s.store.enqueue(room, existing, /*tracks_presence=*/true, std::move(options));
  // Closed, full, or the party too big: the page's own view says which.
  if (!joined) co_return co_await refused("join_unavailable", http::status_of(joined.error().code));
  Response res = http::redirect(ctx.request, Status::see_other,
                                page_url(room, state->return_url, state->lang));
  res.set(field::field::set_cookie,
          visitor::set_cookie(visitor::ticket_cookie_name(room), joined->ticket.ticket,
                              s.config.cookie_secure));
  res.insert(field::field::set_cookie, state_cookie(s, room, "", 0));
  res.set(field::field::cache_control, "no-store");
  co_return res;
}

}  // namespace

void add_sign_in_routes(http::Router& router, const RoomPageDeps& s, const Site& site) {
  using http::Method;
  router.add(Method::get, "/r/{room}/login",
             [&s, &site](RequestContext& ctx) { return start(s, site, ctx); });
  router.add(Method::get, "/r/{room}/login/callback",
             [&s, &site](RequestContext& ctx) { return callback(s, site, ctx); });
}

}  // namespace waitroom::web
