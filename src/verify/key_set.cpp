#include "verify/key_set.hpp"

#include "token/jwk_set.hpp"
#include "token/public_key.hpp"

namespace waitroom::verify::detail {
namespace {

token::Algorithm token_algorithm(Algorithm alg) {
  return alg == Algorithm::ES256 ? token::Algorithm::ES256 : token::Algorithm::RS256;
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
  auto parsed = token::parse_jwk_set(json, skipped);
  if (!parsed) return std::unexpected(std::move(parsed.error()));
  KeySet set;
  for (token::JwkKey& key : parsed->keys) {
    const Algorithm alg = key.alg == token::Algorithm::ES256 ? Algorithm::ES256 : Algorithm::RS256;
    set.keys.emplace_back(std::move(key.kid), alg, std::move(key.pkey), std::move(key.material));
  }
  return set;
}

}  // namespace waitroom::verify::detail
