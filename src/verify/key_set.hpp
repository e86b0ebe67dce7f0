#pragma once
// The public keys of a JWKS (RFC 7517), parsed once into OpenSSL keys by token/jwk_set. Only what
// can sign a Waitroom pass is kept: EC P-256 keys (ES256) and RSA keys of 2048-8192 bits (RS256).
// The algorithm of each key comes from the JWK itself ("alg", or its key type when "alg" is
// absent); symmetric ("oct") keys, keys for encryption and keys naming any other algorithm are
// skipped.
#include <openssl/types.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "waitroom/verify.hpp"

namespace waitroom::verify::detail {

// Immutable; safe to use from many threads.
class PublicKey {
 public:
  PublicKey(std::string kid, Algorithm alg, std::shared_ptr<EVP_PKEY> pkey, std::string material)
      : kid_(std::move(kid)), alg_(alg), pkey_(std::move(pkey)), material_(std::move(material)) {}

  const std::string& kid() const { return kid_; }
  Algorithm alg() const { return alg_; }
  // The key's type and parameters as published: two keys with equal material are the same key.
  const std::string& material() const { return material_; }

  // Checks a JWS signature over `signing_input`: raw 64-byte r || s for ES256 (RFC 7518 section
  // 3.4), PKCS#1 v1.5 for RS256. Anything malformed is simply false.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  std::string kid_;
  Algorithm alg_;
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string material_;
};

struct KeySet {
  std::vector<PublicKey> keys;  // in JWKS order, kids unique

  // Linear: a JWKS holds a handful of keys, and this beats hashing at that size.
  const PublicKey* find(std::string_view kid) const {
    for (const PublicKey& key : keys)
      if (key.kid() == kid) return &key;
    return nullptr;
  }
  // True when every key of `older` is in this set unchanged (keys may have been added).
  bool keeps_all_of(const KeySet& older) const;
};

// Parses a JWKS document. Unusable keys are skipped (their reasons appended to `skipped` if
// given); a document that is not {"keys":[...]} or holds no usable key is an error.
std::expected<KeySet, std::string> parse_jwks(std::string_view json,
                                              std::vector<std::string>* skipped = nullptr);

}  // namespace waitroom::verify::detail
