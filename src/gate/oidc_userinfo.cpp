// GET|POST /oidc/{room}/userinfo (OIDC Core section 5.3): what the relying party may learn about
// the visitor, for a Bearer access token this room's provider issued. The token is verified —
// signature by a key of ours (the algorithm from the key), issuer, audience, token_use, expiry,
// and not revoked by a replayed code — never re-signed and compared as AWS's adapter did.
#include <boost/json.hpp>

#include "gate/oidc_claims.hpp"
#include "gate/oidc_endpoints.hpp"
#include "http/problem.hpp"
#include "token/jws.hpp"

namespace waitroom::gate {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

asio::awaitable<Response> oidc_userinfo(OidcContext& oidc, RequestContext& ctx) {
  const OidcDeps& s = oidc.deps;
  const http::Request& req = ctx.request;
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(req, r.error());
  const std::string_view token = http::bearer_token(req);
  if (token.empty())
    co_return bearer_error(req, "invalid_request",
                           "an access token is required (Authorization: Bearer)",
                           /*token_presented=*/false);
  if (token.size() > token::kMaxJwtBytes)
    co_return bearer_error(req, "invalid_token", "the token is too large");
  auto claims = s.keys.verify(token);
  if (!claims) co_return bearer_error(req, "invalid_token", "the token's signature is not valid");
  auto iss = oidc_issuer(s, req, room);
  if (!iss) co_return bearer_error(req, "invalid_request", "a Host header is required");
  if (auto ok = check_access_token(*claims, *iss, s.clock.now_s()); !ok)
    co_return bearer_error(req, "invalid_token", ok.error().detail);
  const json::value* jti = claims->if_contains("jti");
  if (!jti || !jti->is_string() || oidc.codes.is_revoked(jti->get_string(), s.clock.now_ms()))
    co_return bearer_error(req, "invalid_token", "the token was revoked");
  json::object body{{"sub", claims->at("sub")}, {"room", room}};
  if (const json::value* position = claims->if_contains("queue_position"))
    body["queue_position"] = *position;
  co_return http::json_response(req, Status::ok, json::serialize(body));
}

}  // namespace waitroom::gate
