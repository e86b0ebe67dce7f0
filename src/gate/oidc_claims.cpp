#include "gate/oidc_claims.hpp"

#include <openssl/sha.h>

#include <boost/json.hpp>

#include "token/base64url.hpp"
#include "token/jws.hpp"

namespace waitroom::gate {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t kSubjectBytes = 16;  // 128 bits: no two visitors share one
constexpr std::string_view kSubjectDomain = "waitroom-oidc-sub";

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

const json::string* string_claim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

}  // namespace

std::string oidc_subject(std::string_view room, std::string_view ticket) {
  std::string input(kSubjectDomain);
  input += '\0';
  input += room;
  input += '\0';
  input += ticket;
  return token::base64url_encode(sha256(input).substr(0, kSubjectBytes));
}

std::string at_hash(std::string_view access_token) {
  return token::base64url_encode(sha256(access_token).substr(0, SHA256_DIGEST_LENGTH / 2));
}

std::string userinfo_audience(std::string_view issuer) { return std::string(issuer) + "/userinfo"; }

json::object id_token_claims(const TokenFacts& f, std::string_view access_token) {
  json::object claims{{"iss", f.issuer},
                      {"sub", f.subject},
                      {"aud", f.client_id},
                      {"exp", f.expires_at_s},
                      {"iat", f.issued_at_s},
                      {"auth_time", f.auth_time_s},
                      {"queue_position", f.queue_position},
                      {"at_hash", at_hash(access_token)}};
  if (!f.nonce.empty()) claims["nonce"] = f.nonce;
  return claims;
}

json::object access_token_claims(const TokenFacts& f) {
  return json::object{{"iss", f.issuer},
                      {"sub", f.subject},
                      {"aud", userinfo_audience(f.issuer)},
                      {"client_id", f.client_id},
                      {"exp", f.expires_at_s},
                      {"iat", f.issued_at_s},
                      {"jti", f.access_jti},
                      {"scope", "openid"},
                      {"token_use", kOidcAccessTokenUse},
                      {"queue_position", f.queue_position},
                      {"room", f.room}};
}

core::Result<void> check_access_token(const json::object& claims, std::string_view issuer,
                                      std::int64_t now_s) {
  const json::string* use = string_claim(claims, "token_use");
  if (!use || *use != kOidcAccessTokenUse)
    return fail(ErrorCode::unauthorized, "not an access token of this OpenID provider");
  const json::string* iss = string_claim(claims, "iss");
  if (!iss || *iss != issuer)
    return fail(ErrorCode::unauthorized, "the token was issued for another issuer");
  const json::string* aud = string_claim(claims, "aud");
  if (!aud || *aud != userinfo_audience(issuer))
    return fail(ErrorCode::unauthorized, "the token is meant for another audience");
  const json::string* sub = string_claim(claims, "sub");
  if (!sub || sub->empty()) return fail(ErrorCode::unauthorized, "the token has no subject");
  return token::check_time_claims(claims, now_s, 0);
}

}  // namespace waitroom::gate
