#include "token/jws.hpp"

#include <cmath>

#include "token/base64url.hpp"

namespace waitroom::token {
namespace {

auto unauthorized(std::string detail) {
  return core::fail(core::ErrorCode::unauthorized, std::move(detail));
}

core::Result<boost::json::object> parse_object(std::string_view text, const char* what) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_object())
    return unauthorized(std::string("token ") + what + " is not a JSON object");
  return std::move(value.as_object());
}

}  // namespace

core::Result<std::string> sign_jwt(const SigningKey& key, const boost::json::object& claims) {
  // Written by hand so the header bytes are fixed and in this order.
  std::string header = R"({"alg":")";
  header += algorithm_name(key.alg);
  header += R"(","kid":")";
  header += key.kid;
  header += R"(","typ":"JWT"})";

  std::string token = base64url_encode(header);
  token += '.';
  token += base64url_encode(boost::json::serialize(claims));
  auto signature = key.sign(token);
  if (!signature) return std::unexpected(signature.error());
  token += '.';
  token += base64url_encode(*signature);
  return token;
}

core::Result<UnverifiedJwt> parse_jwt(std::string_view jwt) {
  if (jwt.size() > kMaxJwtBytes) return unauthorized("token too long");
  const std::size_t dot1 = jwt.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return unauthorized("token is not three dot-separated parts");
  }
  UnverifiedJwt token;
  token.signing_input = jwt.substr(0, dot2);
  token.payload_b64 = jwt.substr(dot1 + 1, dot2 - dot1 - 1);

  auto signature = base64url_decode(jwt.substr(dot2 + 1));
  if (!signature || signature->empty()) return unauthorized("token signature is not base64url");
  token.signature = std::move(*signature);

  const auto header_text = base64url_decode(jwt.substr(0, dot1));
  if (!header_text) return unauthorized("token header is not base64url");
  auto header = parse_object(*header_text, "header");
  if (!header) return std::unexpected(header.error());
  // RFC 7515 section 4.1.11: extensions we do not understand must make the token invalid.
  if (header->contains("crit")) return unauthorized("token header has crit");
  const auto* kid = header->if_contains("kid");
  if (kid == nullptr || !kid->is_string()) return unauthorized("token header has no kid");
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return unauthorized("token header has no alg");
  token.kid = kid->as_string();
  token.alg = alg->as_string();
  return token;
}

core::Result<boost::json::object> verify_jwt(const UnverifiedJwt& token, const SigningKey& key) {
  if (token.kid != key.kid) return unauthorized("token kid does not match the key");
  // The key decides the algorithm; a header naming any other ("none", "HS256", RS256 on an EC
  // key) is an attack or a mistake, never a reason to verify differently.
  if (token.alg != algorithm_name(key.alg)) return unauthorized("token alg does not match its key");
  if (!key.verify(token.signing_input, token.signature)) return unauthorized("bad token signature");
  // Only now, with the payload authentic, is it decoded.
  return verified_claims(token);
}

core::Result<boost::json::object> verified_claims(const UnverifiedJwt& token) {
  const auto payload = base64url_decode(token.payload_b64);
  if (!payload) return unauthorized("token payload is not base64url");
  return parse_object(*payload, "payload");
}

std::optional<std::int64_t> numeric_date(const boost::json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    return v.as_uint64() > static_cast<std::uint64_t>(INT64_MAX)
               ? INT64_MAX
               : static_cast<std::int64_t>(v.as_uint64());
  }
  if (v.is_double() && std::isfinite(v.as_double())) {
    const double d = std::floor(v.as_double());
    if (d >= 9.2e18) return INT64_MAX;
    if (d <= -9.2e18) return INT64_MIN;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

bool names_audience(const boost::json::value* aud, std::string_view audience) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->as_string() == audience;
  if (!aud->is_array()) return false;
  for (const boost::json::value& each : aud->as_array())
    if (each.is_string() && each.as_string() == audience) return true;
  return false;
}

core::Result<void> check_time_claims(const boost::json::object& claims, std::int64_t now_s,
                                     std::int64_t leeway_s) {
  const auto* exp_value = claims.if_contains("exp");
  if (exp_value == nullptr) return unauthorized("token has no exp");
  const auto exp = numeric_date(*exp_value);
  if (!exp) return unauthorized("token exp is not a number");
  // Compared as exp <= now - leeway so that a huge exp from the token cannot overflow.
  if (*exp <= now_s - leeway_s) return unauthorized("token expired");
  if (const auto* nbf_value = claims.if_contains("nbf")) {
    const auto nbf = numeric_date(*nbf_value);
    if (!nbf) return unauthorized("token nbf is not a number");
    if (*nbf > now_s + leeway_s) return unauthorized("token not yet valid");
  }
  return {};
}

}  // namespace waitroom::token
