#include "gate/oidc_provider.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <memory>

#include "gate/oidc_endpoints.hpp"
#include "http/problem.hpp"

namespace waitroom::gate {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

// Discovery and keys change rarely (a rotation keeps old keys published): a minute of caching
// spares relying parties that fetch them on every login.
constexpr int kMetadataMaxAgeS = 60;

Response cacheable(Response res) {
  res.set(http::beast_http::field::cache_control,
          fmt::format("public, max-age={}", kMetadataMaxAgeS));
  return res;
}

// OpenID Connect Discovery 1.0, section 3. Only what is implemented is advertised.
asio::awaitable<Response> discovery(OidcContext& oidc, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await oidc.deps.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  auto iss = oidc_issuer(oidc.deps, ctx.request, room);
  if (!iss) co_return http::problem(ctx.request, Status::bad_request, "a Host header is required");
  json::object doc{
      {"issuer", *iss},
      {"authorization_endpoint", *iss + "/authorize"},
      {"token_endpoint", *iss + "/token"},
      {"userinfo_endpoint", *iss + "/userinfo"},
      {"jwks_uri", *iss + "/jwks.json"},
      {"response_types_supported", json::array{"code"}},
      {"response_modes_supported", json::array{"query"}},
      {"grant_types_supported", json::array{"authorization_code"}},
      {"subject_types_supported", json::array{"public"}},
      {"id_token_signing_alg_values_supported", json::array{json::string(r->settings.algorithm)}},
      {"scopes_supported", json::array{"openid"}},
      {"claims_supported", json::array{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                                       "at_hash", "queue_position", "room"}},
      {"token_endpoint_auth_methods_supported",
       json::array{"client_secret_basic", "client_secret_post", "none"}},
      {"code_challenge_methods_supported", json::array{"S256"}},
      {"claims_parameter_supported", false},
      {"request_parameter_supported", false},
      {"request_uri_parameter_supported", false},
  };
  co_return cacheable(http::json_response(ctx.request, Status::ok, json::serialize(doc)));
}

// The same keys as /.well-known/jwks.json: every key that may have signed a live token.
asio::awaitable<Response> jwks(OidcContext& oidc, RequestContext& ctx) {
  auto r = co_await oidc.deps.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return cacheable(
      http::json_response(ctx.request, Status::ok, json::serialize(oidc.deps.keys.jwks())));
}

using OidcHandler = asio::awaitable<Response> (*)(OidcContext&, RequestContext&);

http::Handler route_to(const std::shared_ptr<OidcContext>& oidc, OidcHandler f) {
  return [oidc, f](RequestContext& ctx) { return f(*oidc, ctx); };
}

}  // namespace

void add_oidc_routes(http::Router& router, const OidcDeps& deps) {
  using http::Method;
  // One code table for the process, shared by every route (codes are bound to their room).
  auto oidc = std::make_shared<OidcContext>(deps);
  const std::string base = "/oidc/{room}";
  router.add(Method::get, base + "/.well-known/openid-configuration", route_to(oidc, discovery));
  router.add(Method::get, base + "/jwks.json", route_to(oidc, jwks));
  router.add(Method::get, base + "/authorize", route_to(oidc, oidc_authorize));
  router.add(Method::post, base + "/token", route_to(oidc, oidc_token));
  router.add(Method::get, base + "/userinfo", route_to(oidc, oidc_userinfo));
  router.add(Method::post, base + "/userinfo", route_to(oidc, oidc_userinfo));
}

}  // namespace waitroom::gate
