// POST /oidc/{room}/token: the token endpoint (RFC 6749 section 4.1.3, OIDC Core section 3.1.3).
// Authenticates the client, spends the code, checks everything the code is bound to (room, client,
// redirect URI, PKCE verifier, the visitor's admission still being live) and only then signs. Every
// refusal is an RFC 6749 section 5.2 error and issues nothing.
#include <algorithm>
#include <boost/json.hpp>
#include <expected>

#include "gate/oauth_params.hpp"
#include "gate/oidc_claims.hpp"
#include "gate/oidc_client_auth.hpp"
#include "gate/oidc_codes.hpp"
#include "gate/oidc_endpoints.hpp"
#include "http/problem.hpp"
#include "token/algorithm.hpp"
#include "token/pkce.hpp"

namespace waitroom::gate {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded";

std::string_view redeem_failure(RedeemError e) {
  switch (e) {
    case RedeemError::unknown:
      return "the code is not valid";
    case RedeemError::expired:
      return "the code has expired (codes last 60 seconds)";
    case RedeemError::reused:
      return "the code was already used; tokens issued for it are revoked";
  }
  return "the code is not valid";
}

// 1. The client, before anything about the code is revealed: the room's client the request
// authenticates as, or the refusal.
std::expected<const core::OidcClient*, Response> authenticate_client(
    const http::Request& req, const core::OidcSettings& settings, const OAuthParams& params) {
  const std::string_view authorization = http::header_value(req, "Authorization");
  auto creds =
      read_client_credentials(authorization, params.get("client_id"), params.get("client_secret"));
  if (!creds) {
    // No client named at all: RFC 6749 section 5.2 says invalid_client, and the 401 names the
    // HTTP scheme a client may authenticate with.
    const bool unnamed = creds.error().code == core::ErrorCode::unauthorized;
    return std::unexpected(oauth_error(req, unnamed ? "invalid_client" : "invalid_request",
                                       creds.error().detail, unnamed));
  }
  const bool basic = creds->method == ClientAuthMethod::basic;
  const core::OidcClient* client = settings.find(creds->client_id);
  if (!client) return std::unexpected(oauth_error(req, "invalid_client", "unknown client", basic));
  if (client->is_public) {
    if (!creds->client_secret.empty())
      return std::unexpected(
          oauth_error(req, "invalid_client", "a public client has no secret", basic));
  } else if (creds->method == ClientAuthMethod::none) {
    return std::unexpected(oauth_error(
        req, "invalid_client",
        "client authentication is required (client_secret_basic or client_secret_post)"));
  } else if (!secret_matches(client->client_secret, creds->client_secret)) {
    return std::unexpected(
        oauth_error(req, "invalid_client", "client authentication failed", basic));
  }
  return client;
}

// 2. The grant: the code, spent here, and everything it is bound to (room, client, redirect
// URI, PKCE verifier). The grant, or the refusal.
std::expected<CodeGrant, Response> redeem_grant(OidcContext& oidc, const http::Request& req,
                                                const OAuthParams& params, std::string_view room,
                                                const core::OidcClient& client) {
  auto refuse = [&](std::string_view error, std::string_view why) {
    return std::unexpected(oauth_error(req, error, why));
  };
  const auto grant_type = params.get("grant_type");
  if (!grant_type) return refuse("invalid_request", "grant_type is required");
  if (*grant_type != "authorization_code")
    return refuse("unsupported_grant_type", "only grant_type=authorization_code is supported");
  const auto code = params.get("code");
  if (!code) return refuse("invalid_request", "code is required");
  const auto redirect_uri = params.get("redirect_uri");
  if (!redirect_uri) return refuse("invalid_request", "redirect_uri is required");

  auto grant = oidc.codes.redeem(*code, oidc.deps.clock.now_ms());
  if (!grant) return refuse("invalid_grant", redeem_failure(grant.error()));
  if (grant->room != room) return refuse("invalid_grant", "the code was issued by another room");
  if (grant->client_id != client.client_id)
    return refuse("invalid_grant", "the code was issued to another client");
  if (grant->redirect_uri != *redirect_uri)
    return refuse("invalid_grant", "redirect_uri differs from the authorization request's");
  const auto verifier = params.get("code_verifier");
  if (!grant->code_challenge.empty()) {
    if (!verifier) return refuse("invalid_grant", "code_verifier is required (PKCE)");
    if (!token::pkce_s256_matches(*verifier, grant->code_challenge))
      return refuse("invalid_grant", "code_verifier does not match the code_challenge");
  } else if (verifier) {
    // A verifier for a request made without a challenge is a downgrade attempt or a client bug.
    return refuse("invalid_grant", "the authorization request had no code_challenge");
  }
  return std::move(*grant);
}

}  // namespace

asio::awaitable<Response> oidc_token(OidcContext& oidc, RequestContext& ctx) {
  const OidcDeps& s = oidc.deps;
  const http::Request& req = ctx.request;
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(req, r.error());

  const std::string_view type = http::header_value(req, "Content-Type");
  if (type.substr(0, kFormType.size()) != kFormType)
    co_return oauth_error(req, "invalid_request",
                          "the body must be application/x-www-form-urlencoded");
  auto params = OAuthParams::parse(req.body());
  if (!params) co_return oauth_error(req, "invalid_request", params.error().detail);
  auto client = authenticate_client(req, r->settings.oidc, *params);
  if (!client) co_return std::move(client.error());
  const core::OidcClient& c = **client;
  auto grant = redeem_grant(oidc, req, *params, room, c);
  if (!grant) co_return std::move(grant.error());

  // 3. Still admitted? A session revoked or reset since the code was issued buys nothing.
  auto live = co_await s.store.check_pass(room, grant->ticket, grant->pass);
  if (!live) co_return oauth_error(req, "invalid_grant", "the visitor's admission has ended");

  // 4. Sign. Both tokens end when the visitor's pass does.
  auto iss = oidc_issuer(s, req, room);
  if (!iss) co_return oauth_error(req, "invalid_request", "a Host header is required");
  auto alg = token::parse_algorithm(r->settings.algorithm);
  if (!alg) co_return oauth_error(req, "server_error", "the room has no usable signing algorithm");
  const std::int64_t now_s = s.clock.now_s();
  TokenFacts facts{*iss,
                   oidc_subject(room, grant->ticket),
                   c.client_id,
                   grant->nonce,
                   room,
                   grant->access_jti,
                   grant->auth_time_s,
                   now_s,
                   live->expires_at_s,
                   grant->position};
  auto access_token = s.keys.sign(*alg, access_token_claims(facts));
  if (!access_token) co_return oauth_error(req, "server_error", "could not sign the access token");
  auto id_token = s.keys.sign(*alg, id_token_claims(facts, *access_token));
  if (!id_token) co_return oauth_error(req, "server_error", "could not sign the ID token");
  json::object body{{"access_token", *access_token},
                    {"token_type", "Bearer"},
                    {"expires_in", std::max<std::int64_t>(facts.expires_at_s - now_s, 0)},
                    {"id_token", *id_token},
                    {"scope", "openid"}};
  Response res = http::json_response(req, Status::ok, json::serialize(body));
  res.set(http::beast_http::field::pragma, "no-cache");  // json_response already says no-store
  co_return res;
}

}  // namespace waitroom::gate
