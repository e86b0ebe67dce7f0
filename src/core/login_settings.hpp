#pragma once
// A room's sign-in at the site's own identity provider (docs/admission.md, "Sign-in"): Waitroom is
// an OpenID Connect relying party of `issuer`, and a visitor who signs in holds their place as
// that account (one place per person: max_places_per_identity). Plain data plus the rules it must
// meet; the JSON/TOML codec is config/room_settings_codec, the flow web/room_login.
#include <cstddef>
#include <string>

#include "core/error.hpp"

namespace waitroom::core {

inline constexpr std::size_t kMaxLoginClientIdBytes = 256;
inline constexpr std::size_t kMinLoginClientSecretBytes = 16;
inline constexpr std::size_t kMaxLoginClientSecretBytes = 512;
inline constexpr std::size_t kMaxLoginScopeBytes = 512;

struct LoginSettings {
  std::string issuer;  // its discovery is {issuer}/.well-known/openid-configuration
  std::string client_id;
  // Empty: a public client (PKCE alone); else sent with HTTP Basic to the token endpoint.
  std::string client_secret;
  bool required = false;  // a join needs a sign-in (or an invitation)
  std::string scope = "openid";

  bool operator==(const LoginSettings&) const = default;
};

// issuer is_https_or_loopback_url without a query; client_id printable; a secret, if any, of
// 16-512 bytes; scope printable words that include "openid". The message names the field, e.g.
// "login.issuer".
Result<void> validate(const LoginSettings& login);

}  // namespace waitroom::core
