// POST /oidc/{room}/token: the token endpoint (RFC 6749 section 4.1.3, OIDC Core section 3.1.3).
// Authenticates the client, spends the code, checks everything the code is bound to (room, client,
// redirect URI, PKCE verifier, the visitor's admission still being live) and only then signs. Every
// refusal is an RFC 6749 section 5.2 error and issues nothing.
#include <algorithm>
#include <boost/json.hpp>

#include "gate/oauth_params.hpp"
#include "gate/oidc_claims.hpp"
#include "gate/oidc_client_auth.hpp"
#include "gate/oidc_endpoints.hpp"
#include "gate/pkce.hpp"
#include "http/problem.hpp"
#include "token/algorithm.hpp"

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

}  // namespace

asio::awaitable<Response> oidc_token(OidcContext& oidc, RequestContext& ctx) {
  api::Services& s = oidc.services;
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

  // 1. The client, before anything about the code is revealed.
  const std::string_view authorization = http::header_value(req, "Authorization");
  auto creds = read_client_credentials(authorization, params->get("client_id"),
                                       params->get("client_secret"));
  if (!creds) co_return oauth_error(req, "invalid_request", creds.error().detail);
  const bool basic = creds->method == ClientAuthMethod::basic;
  const core::OidcClient* client = r->settings.oidc.find(creds->client_id);
  if (!client) co_return oauth_error(req, "invalid_client", "unknown client", basic);
  if (client->is_public) {
    if (!creds->client_secret.empty())
      co_return oauth_error(req, "invalid_client", "a public client has no secret", basic);
  } else if (creds->method == ClientAuthMethod::none) {
    co_return oauth_error(
        req, "invalid_client",
        "client authentication is required (client_secret_basic or client_secret_post)");
  } else if (!secret_matches(client->client_secret, creds->client_secret)) {
    co_return oauth_error(req, "invalid_client", "client authentication failed", basic);
  }

  // 2. The grant.
  const auto grant_type = params->get("grant_type");
  if (!grant_type) co_return oauth_error(req, "invalid_request", "grant_type is required");
  if (*grant_type != "authorization_code")
    co_return oauth_error(req, "unsupported_grant_type",
                          "only grant_type=authorization_code is supported");
  const auto code = params->get("code");
  if (!code) co_return oauth_error(req, "invalid_request", "code is required");
  const auto redirect_uri = params->get("redirect_uri");
  if (!redirect_uri) co_return oauth_error(req, "invalid_request", "redirect_uri is required");

  auto grant = oidc.codes.redeem(*code, s.clock.now_ms());
  if (!grant) co_return oauth_error(req, "invalid_grant", redeem_failure(grant.error()));
  if (grant->room != room)
    co_return oauth_error(req, "invalid_grant", "the code was issued by another room");
  if (grant->client_id != client->client_id)
    co_return oauth_error(req, "invalid_grant", "the code was issued to another client");
  if (grant->redirect_uri != *redirect_uri)
    co_return oauth_error(req, "invalid_grant",
                          "redirect_uri differs from the authorization request's");
  const auto verifier = params->get("code_verifier");
  if (!grant->code_challenge.empty()) {
    if (!verifier) co_return oauth_error(req, "invalid_grant", "code_verifier is required (PKCE)");
    if (!pkce_s256_matches(*verifier, grant->code_challenge))
      co_return oauth_error(req, "invalid_grant",
                            "code_verifier does not match the code_challenge");
  } else if (verifier) {
    // A verifier for a request made without a challenge is a downgrade attempt or a client bug.
    co_return oauth_error(req, "invalid_grant", "the authorization request had no code_challenge");
  }

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
                   client->client_id,
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
