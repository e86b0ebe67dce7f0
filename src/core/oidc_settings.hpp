#pragma once
// A room's OpenID Connect clients (the relying parties that may put the room in front of
// themselves through gate/oidc_provider). Plain data plus the rules a client must meet; the
// JSON/TOML codec is config/room_settings_codec.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::core {

inline constexpr std::size_t kMaxOidcClients = 50;
inline constexpr std::size_t kMaxOidcRedirectUris = 20;
inline constexpr std::size_t kMaxOidcClientIdBytes = 128;
// A secret is compared, never derived from: 16 bytes is the least that resists guessing online.
inline constexpr std::size_t kMinOidcClientSecretBytes = 16;
inline constexpr std::size_t kMaxOidcClientSecretBytes = 256;

struct OidcClient {
  std::string client_id;
  // Empty for a public client (a browser or native app that cannot keep a secret): such a client
  // must use PKCE instead.
  std::string client_secret;
  // Compared byte for byte with the redirect_uri of each request (no prefix or pattern match).
  std::vector<std::string> redirect_uris;
  bool is_public = false;  // "public" in JSON and TOML

  bool operator==(const OidcClient&) const = default;
};

struct OidcSettings {
  std::vector<OidcClient> clients;

  const OidcClient* find(std::string_view client_id) const {
    for (const OidcClient& c : clients)
      if (c.client_id == client_id) return &c;
    return nullptr;
  }
  bool operator==(const OidcSettings&) const = default;
};

// client_id non-empty, printable and unique; redirect_uris present and each one
// is_https_or_loopback_url (core/https_url.hpp); a public client has no secret and a confidential
// one has a long enough secret. The message names the field, e.g.
// "oidc.clients[1].redirect_uris[0]".
Result<void> validate(const OidcSettings& oidc);

}  // namespace waitroom::core
