#include "token/jwk_set.hpp"

#include <boost/json.hpp>

#include "token/public_key.hpp"

namespace waitroom::token {
namespace {

std::string string_member(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// One JWK -> a key, or why it cannot check signatures.
std::expected<JwkKey, std::string> parse_jwk(const boost::json::object& jwk) {
  const auto* kid_value = jwk.if_contains("kid");
  if (kid_value == nullptr || !kid_value->is_string() || kid_value->as_string().empty() ||
      kid_value->as_string().size() > kMaxJwkKidChars) {
    return std::unexpected("a key without a kid");
  }
  const std::string kid(kid_value->as_string());
  const auto fail = [&kid](std::string why) {
    return std::unexpected("key " + kid + ": " + std::move(why));
  };
  if (const auto* use = jwk.if_contains("use");
      use != nullptr && (!use->is_string() || use->as_string() != "sig"))
    return fail("its use is not \"sig\"");

  // The key type decides the algorithm; "alg", when present, must agree with it. Anything
  // symmetric ("oct", HS256) or unsigned never reaches this point with a usable type.
  const std::string kty = string_member(jwk, "kty");
  Algorithm alg;
  if (kty == "EC") {
    alg = Algorithm::ES256;
  } else if (kty == "RSA") {
    alg = Algorithm::RS256;
  } else {
    return fail("key type \"" + kty + "\" cannot check signatures");
  }
  if (const auto* alg_value = jwk.if_contains("alg");
      alg_value != nullptr &&
      (!alg_value->is_string() || alg_value->as_string() != algorithm_name(alg))) {
    return fail("its alg does not fit its " + kty + " key (only ES256 and RS256 are used)");
  }

  auto pkey = public_key_from_jwk(jwk, alg);
  if (!pkey) return fail(pkey.error());
  std::string material = kty;
  for (const char* member : {"crv", "x", "y", "n", "e"}) {
    material += ':';
    material += string_member(jwk, member);
  }
  return JwkKey{kid, alg, std::move(*pkey), std::move(material)};
}

}  // namespace

std::expected<JwkSet, std::string> parse_jwk_set(std::string_view json,
                                                 std::vector<std::string>* skipped) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return std::unexpected("JWKS is not JSON: " + ec.message());
  const auto* keys_value = doc.is_object() ? doc.as_object().if_contains("keys") : nullptr;
  if (keys_value == nullptr || !keys_value->is_array())
    return std::unexpected("JWKS is not an object with a \"keys\" array");

  JwkSet set;
  for (const boost::json::value& entry : keys_value->as_array()) {
    std::expected<JwkKey, std::string> key =
        entry.is_object() ? parse_jwk(entry.as_object())
                          : std::unexpected<std::string>("a key that is not a JSON object");
    if (key && set.find(key->kid) != nullptr)
      key = std::unexpected("key " + key->kid + ": listed twice");
    if (!key) {
      if (skipped != nullptr) skipped->push_back(std::move(key.error()));
      continue;
    }
    set.keys.push_back(std::move(*key));
  }
  if (set.keys.empty()) return std::unexpected("JWKS has no usable ES256 or RS256 key");
  return set;
}

}  // namespace waitroom::token
