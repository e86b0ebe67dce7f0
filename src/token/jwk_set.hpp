#pragma once
// The public keys of a JWKS (RFC 7517), parsed once into OpenSSL keys: what checks Waitroom's
// passes (verify/key_set, in a protected application) and a site's invitations (a room's jwks_url).
// Only EC P-256 keys (ES256) and RSA keys of 2048-8192 bits (RS256) are kept. The algorithm of each
// key comes from the JWK itself ("alg", or its key type when "alg" is absent), never from a token;
// symmetric ("oct") keys, keys for encryption and keys naming any other algorithm are skipped.
// Compiled into libwaitroom_verify too, so it uses nothing of the server's but token/public_key.
#include <openssl/types.h>

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "token/algorithm.hpp"

namespace waitroom::token {

inline constexpr std::size_t kMaxJwkKidChars = 256;

// Immutable; safe to use from many threads.
struct JwkKey {
  std::string kid;
  Algorithm alg;
  std::shared_ptr<EVP_PKEY> pkey;
  // The key's type and parameters as published: two keys with equal material are the same key.
  std::string material;
};

struct JwkSet {
  std::vector<JwkKey> keys;  // in JWKS order, kids unique

  // Linear: a JWKS holds a handful of keys, and this beats hashing at that size.
  const JwkKey* find(std::string_view kid) const {
    for (const JwkKey& key : keys)
      if (key.kid == kid) return &key;
    return nullptr;
  }
};

// Parses a JWKS document. Unusable keys are skipped (their reasons appended to `skipped` if given);
// a document that is not {"keys":[...]} or holds no usable key is an error.
std::expected<JwkSet, std::string> parse_jwk_set(std::string_view json,
                                                 std::vector<std::string>* skipped = nullptr);

}  // namespace waitroom::token
