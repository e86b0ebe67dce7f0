#pragma once
// JWTs as compact JWS (RFC 7515/7519): sign with one SigningKey, parse untrusted text, verify with
// the key the caller chose by kid. The algorithm always comes from the key, never from the token
// header, so "alg":"none" or an HS256-with-the-public-key forgery cannot pass (DESIGN.md section
// 5).
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "token/signing_key.hpp"

namespace waitroom::token {

// Longer tokens are refused before any decoding: passes are a few hundred bytes.
inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;

// header.payload.signature with header exactly {"alg":"<alg>","kid":"<kid>","typ":"JWT"} and
// payload boost::json::serialize(claims).
core::Result<std::string> sign_jwt(const SigningKey& key, const boost::json::object& claims);

// A token split and decoded but NOT verified: nothing in it is trustworthy yet.
struct UnverifiedJwt {
  std::string_view signing_input;  // "header.payload" as sent, what the signature covers
  std::string_view payload_b64;
  std::string kid;
  std::string alg;  // the header's claim, only ever compared against the key's algorithm
  std::string signature;
};

// Structure checks only: three base64url parts, a JSON object header with string kid and alg, no
// "crit". Errors are ErrorCode::unauthorized. The result views into `jwt`.
core::Result<UnverifiedJwt> parse_jwt(std::string_view jwt);

// Checks the signature with `key` (the caller looked it up by token.kid) and that the header's alg
// names the key's algorithm, then returns the claims object. Errors are ErrorCode::unauthorized.
core::Result<boost::json::object> verify_jwt(const UnverifiedJwt& token, const SigningKey& key);

// The payload of `token` as a JSON object: only for a token whose signature the caller has
// verified, never before. Errors are ErrorCode::unauthorized.
core::Result<boost::json::object> verified_claims(const UnverifiedJwt& token);

// A NumericDate claim (RFC 7519 section 2): any JSON number, fractions floored, clamped to what
// int64 holds; nullopt if `v` is not a number.
std::optional<std::int64_t> numeric_date(const boost::json::value& v);

// Whether an aud claim names `audience`: the string itself, or an array holding it (RFC 7519
// section 4.1.3). Absent or of another type: no.
bool names_audience(const boost::json::value* aud, std::string_view audience);

// exp is required; the claims are valid while now_s < exp + leeway_s and nbf (if present) <=
// now_s + leeway_s. Non-numeric exp/nbf are errors. Errors are ErrorCode::unauthorized.
core::Result<void> check_time_claims(const boost::json::object& claims, std::int64_t now_s,
                                     std::int64_t leeway_s);

}  // namespace waitroom::token
