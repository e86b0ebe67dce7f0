#include "token/id_token.hpp"

#include <boost/json.hpp>

#include "token/jws.hpp"
#include "token/public_key.hpp"
#include "token/quoted.hpp"

namespace waitroom::token {
namespace {

constexpr std::size_t kMaxQuotedChars = 64;

auto refuse(std::string detail) {
  return core::fail(core::ErrorCode::unauthorized, "ID token " + std::move(detail));
}

std::string quoted(std::string_view text) { return token::quoted(text, kMaxQuotedChars); }

bool string_claim_is(const boost::json::object& claims, std::string_view name,
                     std::string_view want) {
  const auto* v = claims.if_contains(name);
  return v != nullptr && v->is_string() && v->as_string() == want;
}

}  // namespace

core::Result<IdToken> verify_id_token(std::string_view jwt, const JwkSet& keys,
                                      const IdTokenExpectations& expected, std::int64_t now_s) {
  if (jwt.size() > kMaxJwtBytes) return refuse("is too long");
  auto token = parse_jwt(jwt);
  if (!token) return refuse("is not a signed JWT: " + token.error().detail);
  const JwkKey* key = keys.find(token->kid);
  if (key == nullptr)
    return refuse("names kid " + quoted(token->kid) + ", which the provider's JWKS does not have");
  // The key decides the algorithm: "none", or HS256 keyed with a public key, stop here.
  if (token->alg != algorithm_name(key->alg))
    return refuse("header names alg " + quoted(token->alg) + " but key " + quoted(key->kid) +
                  " is " + std::string(algorithm_name(key->alg)));
  if (!verify_signature(key->pkey.get(), key->alg, token->signing_input, token->signature))
    return refuse("signature does not verify with key " + quoted(key->kid));

  auto claims = verified_claims(*token);
  if (!claims) return refuse("payload: " + claims.error().detail);
  if (!string_claim_is(*claims, "iss", expected.issuer))
    return refuse("iss is not the room's identity provider " + quoted(expected.issuer));
  const boost::json::value* aud = claims->if_contains("aud");
  if (!names_audience(aud, expected.client_id))
    return refuse("aud is not the room's client_id " + quoted(expected.client_id));
  if (aud->is_array() && claims->contains("azp") &&
      !string_claim_is(*claims, "azp", expected.client_id))
    return refuse("azp is not the room's client_id " + quoted(expected.client_id));
  if (!string_claim_is(*claims, "nonce", expected.nonce))
    return refuse("nonce is not the one this sign-in sent");
  if (auto times = check_time_claims(*claims, now_s, kIdTokenLeewayS); !times)
    return refuse("is out of date: " + times.error().detail);
  if (const auto* iat = claims->if_contains("iat")) {
    const auto at = numeric_date(*iat);
    if (!at || *at > now_s + kIdTokenLeewayS) return refuse("iat is in the future");
  }
  const auto* sub = claims->if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->as_string().empty() ||
      sub->as_string().size() > kMaxIdTokenSubBytes)
    return refuse("needs sub, a string of 1-" + std::to_string(kMaxIdTokenSubBytes) + " bytes");
  IdToken out;
  out.sub = std::string(sub->as_string());
  out.exp_s = numeric_date(claims->at("exp")).value_or(now_s);
  return out;
}

std::optional<std::string> id_token_kid(std::string_view jwt) {
  auto token = parse_jwt(jwt);
  if (!token) return std::nullopt;
  return token->kid;
}

}  // namespace waitroom::token
