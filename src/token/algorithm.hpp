#pragma once
// The JWS algorithms passes may be signed with. HS256 is deliberately absent: passes are checked by
// third parties holding only public keys, and "none" is never an algorithm.
#include <cstdint>
#include <optional>
#include <string_view>

namespace waitroom::token {

enum class Algorithm : std::uint8_t {
  ES256,  // ECDSA P-256 + SHA-256, the default (fast to sign)
  RS256,  // RSASSA-PKCS1-v1_5 + SHA-256, for AWS compatibility
};

// Exact, case-sensitive match of the JOSE "alg" value.
constexpr std::optional<Algorithm> parse_algorithm(std::string_view name) {
  if (name == "ES256") return Algorithm::ES256;
  if (name == "RS256") return Algorithm::RS256;
  return std::nullopt;
}

constexpr std::string_view algorithm_name(Algorithm alg) {
  switch (alg) {
    case Algorithm::ES256:
      return "ES256";
    case Algorithm::RS256:
      return "RS256";
  }
  return "";
}

inline constexpr Algorithm kAllAlgorithms[] = {Algorithm::ES256, Algorithm::RS256};

}  // namespace waitroom::token
