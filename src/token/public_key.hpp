#pragma once
// Public keys that check JWS signatures (ES256, RS256), parsed once into OpenSSL keys: from a JWK
// (verify/key_set, the JWKS a protected application loads) or from a PEM (token/invitation, the
// keys a site registers in its room). Compiled into libwaitroom_verify too, so it uses nothing of
// the server's but token/base64url.
#include <openssl/types.h>

#include <boost/json.hpp>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

#include "token/algorithm.hpp"

namespace waitroom::token {

// Smaller RSA keys are breakable; bigger ones only make verification slow.
inline constexpr int kMinRsaPublicKeyBits = 2048;
inline constexpr int kMaxRsaPublicKeyBits = 8192;

// A parsed key, or why it cannot check `alg` signatures. Immutable: safe to share between threads.
using PublicKeyResult = std::expected<std::shared_ptr<EVP_PKEY>, std::string>;

// The key of a JWK (RFC 7518 section 6): for ES256 kty "EC" on crv "P-256" with x and y, for RS256
// kty "RSA" with n and e of 2048-8192 bits. Only the key's own members are read: kid, use and alg
// are the caller's policy.
PublicKeyResult public_key_from_jwk(const boost::json::object& jwk, Algorithm alg);

// The key of a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"): a P-256 EC key for ES256,
// an RSA key of 2048-8192 bits for RS256.
PublicKeyResult public_key_from_pem(std::string_view pem, Algorithm alg);

// Checks a JWS signature over `signing_input` with `key`, a key for `alg`: raw 64-byte r || s for
// ES256 (RFC 7518 section 3.4), PKCS#1 v1.5 for RS256. Anything malformed is simply false.
bool verify_signature(EVP_PKEY* key, Algorithm alg, std::string_view signing_input,
                      std::string_view signature);

}  // namespace waitroom::token
