#pragma once
// The claims of the OIDC adapter's tokens, and the checks userinfo makes on an access token,
// as pure functions (no server, no keys) so they are tested on their own.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::gate {

// token_use of the adapter's access tokens: neither a pass ("access") nor an ID token can be
// taken for one, and one cannot be taken for a pass (gates compare passes with the store's).
inline constexpr std::string_view kOidcAccessTokenUse = "oidc_access";

// Everything a token issued at the token endpoint says.
struct TokenFacts {
  std::string issuer;
  std::string subject;
  std::string client_id;
  std::string nonce;  // empty: the authorization request had none, and the ID token has none
  std::string room;
  std::string access_jti;
  std::int64_t auth_time_s = 0;
  std::int64_t issued_at_s = 0;
  std::int64_t expires_at_s = 0;
  std::uint64_t queue_position = 0;
};

// The visitor's `sub`: stable for one ticket of one room, and one-way, so the relying party never
// sees the ticket id (with which anyone could fetch the visitor's pass).
std::string oidc_subject(std::string_view room, std::string_view ticket);

// OIDC Core section 3.1.3.6: base64url of the left half of SHA-256 of the access token (both ES256
// and RS256 hash with SHA-256).
std::string at_hash(std::string_view access_token);

// The userinfo endpoint's URL, which is the access token's audience.
std::string userinfo_audience(std::string_view issuer);

// iss sub aud(client_id) exp iat auth_time [nonce] queue_position at_hash.
boost::json::object id_token_claims(const TokenFacts& facts, std::string_view access_token);
// iss sub aud(userinfo) client_id exp iat jti scope token_use queue_position room.
boost::json::object access_token_claims(const TokenFacts& facts);

// What userinfo checks once the signature is good: token_use, iss, aud and exp (no leeway: we
// issued it on this clock). Errors are unauthorized with a detail for the WWW-Authenticate header.
core::Result<void> check_access_token(const boost::json::object& claims, std::string_view issuer,
                                      std::int64_t now_s);

}  // namespace waitroom::gate
