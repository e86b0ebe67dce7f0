#include "verify/key_set.hpp"

#include <boost/json.hpp>

#include "token/public_key.hpp"

namespace waitroom::verify::detail {
namespace {

constexpr std::size_t kMaxKidChars = 256;

token::Algorithm token_algorithm(Algorithm alg) {
  return alg == Algorithm::ES256 ? token::Algorithm::ES256 : token::Algorithm::RS256;
}

std::string string_member(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// One JWK -> a key, or why it cannot verify passes.
std::expected<PublicKey, std::string> parse_jwk(const boost::json::object& jwk) {
  const auto* kid_value = jwk.if_contains("kid");
  if (kid_value == nullptr || !kid_value->is_string() || kid_value->as_string().empty() ||
      kid_value->as_string().size() > kMaxKidChars) {
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
    return fail("key type \"" + kty + "\" cannot sign passes");
  }
  if (const auto* alg_value = jwk.if_contains("alg");
      alg_value != nullptr &&
      (!alg_value->is_string() || alg_value->as_string() != to_string(alg))) {
    return fail("its alg does not fit its " + kty + " key (only ES256 and RS256 are used)");
  }

  auto pkey = token::public_key_from_jwk(jwk, token_algorithm(alg));
  if (!pkey) return fail(pkey.error());
  std::string material = kty;
  for (const char* member : {"crv", "x", "y", "n", "e"}) {
    material += ':';
    material += string_member(jwk, member);
  }
  return PublicKey(kid, alg, std::move(*pkey), std::move(material));
}

}  // namespace

bool PublicKey::verify(std::string_view signing_input, std::string_view signature) const {
  return token::verify_signature(pkey_.get(), token_algorithm(alg_), signing_input, signature);
}

bool KeySet::keeps_all_of(const KeySet& older) const {
  for (const PublicKey& old_key : older.keys) {
    const PublicKey* now = find(old_key.kid());
    if (now == nullptr || now->alg() != old_key.alg() || now->material() != old_key.material())
      return false;
  }
  return true;
}

std::expected<KeySet, std::string> parse_jwks(std::string_view json,
                                              std::vector<std::string>* skipped) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return std::unexpected("JWKS is not JSON: " + ec.message());
  const auto* keys_value = doc.is_object() ? doc.as_object().if_contains("keys") : nullptr;
  if (keys_value == nullptr || !keys_value->is_array())
    return std::unexpected("JWKS is not an object with a \"keys\" array");

  KeySet set;
  for (const boost::json::value& entry : keys_value->as_array()) {
    std::expected<PublicKey, std::string> key =
        entry.is_object() ? parse_jwk(entry.as_object())
                          : std::unexpected<std::string>("a key that is not a JSON object");
    if (key && set.find(key->kid()) != nullptr)
      key = std::unexpected("key " + key->kid() + ": listed twice");
    if (!key) {
      if (skipped != nullptr) skipped->push_back(std::move(key.error()));
      continue;
    }
    set.keys.push_back(std::move(*key));
  }
  if (set.keys.empty()) return std::unexpected("JWKS has no usable ES256 or RS256 key");
  return set;
}

}  // namespace waitroom::verify::detail
