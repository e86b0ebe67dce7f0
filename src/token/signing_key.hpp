#pragma once
// One asymmetric key that signs passes: the OpenSSL key is parsed once and kept, because parsing a
// PEM per signature is what makes libjwt and cpp-jwt 7-19x slower (DESIGN.md section 6).
#include <openssl/types.h>

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "token/algorithm.hpp"

namespace waitroom::token {

inline constexpr std::size_t kKidChars = 32;
inline constexpr std::size_t kEs256SignatureBytes = 64;  // raw r || s, 32 bytes each
inline constexpr int kRsaKeyBits = 2048;

// True for what a kid may look like: exactly 32 lowercase hex characters. Key files are named
// after kids, so this also keeps path separators out of file names.
bool is_valid_kid(std::string_view kid);

// Copyable: copies share the same immutable OpenSSL key (reference counted). Safe to use from many
// threads at once; the metadata fields are plain values owned by each copy.
class SigningKey {
 public:
  // A fresh key (P-256 for ES256, RSA 2048 for RS256) with a random kid.
  static core::Result<SigningKey> generate(Algorithm alg, std::int64_t created_at_s);
  // Parses a PKCS#8 (or traditional) PEM private key; the key type must match `alg`: P-256 for
  // ES256, RSA of at least 2048 bits for RS256. Encrypted PEMs are refused, never prompted for.
  static core::Result<SigningKey> from_pem(std::string_view pem, std::string kid, Algorithm alg,
                                           std::int64_t created_at_s,
                                           std::optional<std::int64_t> retired_at_s);

  SigningKey(const SigningKey& other);
  SigningKey& operator=(const SigningKey& other);
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  ~SigningKey();

  // PKCS#8 PEM of the private key, for storage.
  core::Result<std::string> private_pem() const;

  // The JWS signature of `data` (the signing input): raw 64-byte r || s for ES256 (RFC 7518
  // section 3.4, not DER), the PKCS#1 v1.5 signature for RS256.
  core::Result<std::string> sign(std::string_view data) const;
  // Checks a JWS signature made by sign(). Any malformed signature is simply false.
  bool verify(std::string_view data, std::string_view signature) const;

  // The public half as a JWK with kid, alg and use:"sig" (RFC 7517/7518).
  const boost::json::object& public_jwk() const { return public_jwk_; }

  std::string kid;
  Algorithm alg = Algorithm::ES256;
  std::int64_t created_at_s = 0;
  std::optional<std::int64_t> retired_at_s;

 private:
  SigningKey(EVP_PKEY* pkey, std::string kid, Algorithm alg, std::int64_t created_at_s,
             std::optional<std::int64_t> retired_at_s);
  static core::Result<SigningKey> adopt(EVP_PKEY* pkey, std::string kid, Algorithm alg,
                                        std::int64_t created_at_s,
                                        std::optional<std::int64_t> retired_at_s);

  EVP_PKEY* pkey_ = nullptr;  // owned (one reference); immutable after construction
  boost::json::object public_jwk_;
};

}  // namespace waitroom::token
