#pragma once
// Invitations: JWTs the protected site signs for the visitors it vouches for (docs/admission.md,
// "Invitations"). This is the room's side of it, plain data plus its rules: the keys the site signs
// with (inline, or published as a JWKS at a URL), and whether a join needs an invitation at all.
// token/invitation checks the JWTs; the JSON and TOML codec is config/room_settings_codec.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::core {

inline constexpr std::size_t kMaxInvitationKeys = 10;
inline constexpr std::size_t kMaxInvitationKidBytes = 128;
// An HS256 secret is guessed offline from any invitation it signed: 32 bytes is SHA-256's size.
inline constexpr std::size_t kMinInvitationSecretBytes = 32;
inline constexpr std::size_t kMaxInvitationSecretBytes = 512;
inline constexpr std::size_t kMaxInvitationPublicKeyBytes = 16 * 1024;
// An invitation's exp is at most this far ahead: a used invitation's jti is kept until its exp,
// so this bounds what a room remembers.
inline constexpr std::int64_t kMaxInvitationLifetimeS = 30 * 86400;

struct InvitationKey {
  std::string kid;         // the JWT header's "kid" picks the key
  std::string alg;         // "ES256", "RS256" (public_key) or "HS256" (secret)
  std::string public_key;  // PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----")
  std::string secret;      // HS256's shared secret, kept like an OIDC client secret

  bool operator==(const InvitationKey&) const = default;
};

struct InvitationSettings {
  // A join without a valid invitation is refused (401).
  bool invite_only = false;
  std::vector<InvitationKey> keys;
  // The site's JWKS (RFC 7517), fetched and cached by store/invitation_jwks: its ES256 and RS256
  // keys check invitations whose kid none of `keys` has. Empty: none.
  std::string jwks_url;

  const InvitationKey* find(std::string_view kid) const {
    for (const InvitationKey& k : keys)
      if (k.kid == kid) return &k;
    return nullptr;
  }
  bool operator==(const InvitationSettings&) const = default;
};

// kids non-empty, printable and unique; each alg one of the three with the material it needs (and
// only that); jwks_url empty or core::is_https_or_loopback_url; invite_only needs a key or a
// jwks_url. Whether a public key parses is token/invitation's check.
// The message names the field, e.g. "invitations.keys[1].secret".
Result<void> validate(const InvitationSettings& invitations);

}  // namespace waitroom::core
