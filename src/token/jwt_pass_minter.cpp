#include "token/jwt_pass_minter.hpp"

#include <openssl/rand.h>

#include "token/base64url.hpp"

namespace waitroom::token {

namespace {
constexpr std::size_t kJtiBytes = 16;
}

core::Result<std::string> JwtPassMinter::mint(const core::PassRequest& r) const {
  auto alg = parse_algorithm(r.algorithm);
  if (!alg) return core::fail(core::ErrorCode::internal, "room has an unknown algorithm");
  unsigned char jti[kJtiBytes];
  if (RAND_bytes(jti, sizeof jti) != 1)
    return core::fail(core::ErrorCode::internal, "no randomness for jti");
  boost::json::object claims{
      {"iss", r.issuer},
      {"sub", r.ticket},
      {"aud", r.audience},
      {"exp", r.expires_at_s},
      {"iat", r.issued_at_s},
      {"nbf", r.issued_at_s},
      {"jti", base64url_encode(std::string_view(reinterpret_cast<const char*>(jti), sizeof jti))},
      {"queue_position", r.position},
      {"token_use", "access"},
  };
  if (!r.binding.empty()) claims["bind"] = r.binding;
  if (r.party_size > 1) claims["party_size"] = r.party_size;
  return keys_.sign(*alg, claims);
}

}  // namespace waitroom::token
