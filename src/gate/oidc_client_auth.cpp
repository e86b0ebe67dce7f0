#include "gate/oidc_client_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>

#include "http/query.hpp"
#include "token/base64url.hpp"

namespace waitroom::gate {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::size_t kMaxBasicCredentialsBytes = 2048;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Standard base64 (RFC 4648 section 4, padded) through the base64url decoder: same bits, other
// two characters.
std::optional<std::string> base64_decode(std::string_view text) {
  std::string url(text);
  while (!url.empty() && url.back() == '=') url.pop_back();
  if (text.size() % 4 != 0 || text.size() - url.size() > 2) return std::nullopt;
  for (char& c : url) {
    if (c == '-' || c == '_') return std::nullopt;
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return token::base64url_decode(url);
}

}  // namespace

core::Result<ClientCredentials> read_client_credentials(
    std::string_view authorization, std::optional<std::string_view> form_client_id,
    std::optional<std::string_view> form_client_secret) {
  ClientCredentials out;
  if (!authorization.empty()) {
    const auto space = authorization.find(' ');
    if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "Basic"))
      return fail(ErrorCode::bad_request, "the Authorization header must use the Basic scheme");
    std::string_view encoded = authorization.substr(space + 1);
    while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
    if (encoded.size() > kMaxBasicCredentialsBytes)
      return fail(ErrorCode::bad_request, "the Basic credentials are too long");
    auto decoded = base64_decode(encoded);
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return fail(ErrorCode::bad_request,
                  "the Basic credentials must be base64 of client_id:client_secret");
    // RFC 6749 section 2.3.1: both halves are form-urlencoded before they are joined.
    auto id = http::form_decode(std::string_view(*decoded).substr(0, colon));
    auto secret = http::form_decode(std::string_view(*decoded).substr(colon + 1));
    if (!id || !secret || id->empty())
      return fail(ErrorCode::bad_request,
                  "the Basic credentials must be base64 of client_id:client_secret");
    if (form_client_secret)
      return fail(ErrorCode::bad_request,
                  "authenticate one way only: HTTP Basic or client_secret in the body");
    if (form_client_id && *form_client_id != *id)
      return fail(ErrorCode::bad_request,
                  "client_id in the body differs from the one in the Authorization header");
    out.method = ClientAuthMethod::basic;
    out.client_id = std::move(*id);
    out.client_secret = std::move(*secret);
    return out;
  }
  // No client named at all: a failed client authentication (RFC 6749 section 5.2,
  // invalid_client), not a malformed request.
  if (!form_client_id)
    return fail(ErrorCode::unauthorized,
                "client authentication is required: HTTP Basic, or client_id in the body");
  out.client_id = std::string(*form_client_id);
  if (form_client_secret) {
    out.method = ClientAuthMethod::post;
    out.client_secret = std::string(*form_client_secret);
  }
  return out;
}

bool secret_matches(std::string_view expected, std::string_view given) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

}  // namespace waitroom::gate
