#pragma once
// How a relying party proves who it is at the token endpoint (RFC 6749 section 2.3.1, OIDC Core
// section 9): client_secret_basic (HTTP Basic with the form-encoded id and secret),
// client_secret_post (client_id and client_secret in the form body), or none (a public client
// names itself with client_id and proves possession with PKCE instead).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::gate {

enum class ClientAuthMethod : std::uint8_t { basic, post, none };

struct ClientCredentials {
  ClientAuthMethod method = ClientAuthMethod::none;
  std::string client_id;
  std::string client_secret;  // empty for none
};

// From the Authorization header's value (may be empty) and the form's client_id and
// client_secret. A malformed Basic header, or two methods at once (RFC 6749 section 2.3: "MUST
// NOT use more than one"), is a bad_request; no client_id anywhere is unauthorized (the token
// endpoint's invalid_client).
core::Result<ClientCredentials> read_client_credentials(
    std::string_view authorization, std::optional<std::string_view> form_client_id,
    std::optional<std::string_view> form_client_secret);

// Constant-time whatever the lengths: both sides are hashed first, so neither the content nor
// the length of the secret leaks through timing.
bool secret_matches(std::string_view expected, std::string_view given);

}  // namespace waitroom::gate
