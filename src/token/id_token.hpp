#pragma once
// The ID token a room's identity provider sends back after a visitor signed in (OpenID Connect
// Core 1.0 section 3.1.3.7), checked before the visitor's place is given to its account.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "token/jwk_set.hpp"

namespace waitroom::token {

inline constexpr std::int64_t kIdTokenLeewayS = 30;  // clocks may differ this much
inline constexpr std::size_t kMaxIdTokenSubBytes = 255;

struct IdToken {
  std::string sub;
  std::int64_t exp_s = 0;
};

struct IdTokenExpectations {
  std::string_view issuer;     // iss, exactly
  std::string_view client_id;  // aud, or one of an aud array (then azp, if present, too)
  std::string_view nonce;      // sent with the authorization request
};

// The signature is by the key of `keys` the header's kid names, with that key's algorithm (ES256
// or RS256: "none" and HS256 fail); iss, aud and nonce are what was expected; exp is not past and
// iat not in the future (kIdTokenLeewayS); sub is a non-empty string of at most
// kMaxIdTokenSubBytes. Every refusal is ErrorCode::unauthorized, saying what was wrong.
core::Result<IdToken> verify_id_token(std::string_view jwt, const JwkSet& keys,
                                      const IdTokenExpectations& expected, std::int64_t now_s);

// The kid an ID token's header names, unverified (which key to fetch); nothing when `jwt` is not
// a JWT.
std::optional<std::string> id_token_kid(std::string_view jwt);

}  // namespace waitroom::token
