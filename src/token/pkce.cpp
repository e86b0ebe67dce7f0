#include "token/pkce.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "token/base64url.hpp"

namespace waitroom::token {

namespace {

constexpr std::size_t kMinVerifierChars = 43;
constexpr std::size_t kMaxVerifierChars = 128;
constexpr std::size_t kS256ChallengeChars = 43;

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

bool is_valid_code_verifier(std::string_view verifier) {
  if (verifier.size() < kMinVerifierChars || verifier.size() > kMaxVerifierChars) return false;
  for (char c : verifier)
    if (!is_unreserved(c)) return false;
  return true;
}

bool is_valid_s256_challenge(std::string_view challenge) {
  if (challenge.size() != kS256ChallengeChars) return false;
  auto bytes = token::base64url_decode(challenge);
  return bytes && bytes->size() == SHA256_DIGEST_LENGTH;
}

std::string s256_challenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return token::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool pkce_s256_matches(std::string_view verifier, std::string_view challenge) {
  if (!is_valid_code_verifier(verifier) || challenge.size() != kS256ChallengeChars) return false;
  const std::string computed = s256_challenge(verifier);
  return CRYPTO_memcmp(computed.data(), challenge.data(), kS256ChallengeChars) == 0;
}

}  // namespace waitroom::token
