#pragma once
// Invitations (docs/admission.md, "Invitations"): JWTs the protected site signs for a visitor it
// vouches for, checked against the keys registered in the room (core/invitation_settings.hpp).
// Checked before the room's lock is taken (a signature costs tens of microseconds); what needs
// the room's state (the jti used once, the lane, one place per sub) is engine::enqueue's.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/invitation_settings.hpp"
#include "token/jwk_set.hpp"

namespace waitroom::token {

inline constexpr std::size_t kMaxInvitationBytes = 4096;
inline constexpr std::size_t kMaxInvitationSubBytes = 256;
inline constexpr std::size_t kMaxInvitationJtiBytes = 128;
// Clocks of the site and of Waitroom may differ by this much.
inline constexpr std::int64_t kInvitationLeewayS = 30;

// What a verified invitation says.
struct Invitation {
  std::string sub;                  // the site's account id
  std::optional<std::string> lane;  // a lane of the room's to join in
  std::string jti;                  // good for one join
  std::int64_t exp_s = 0;
  std::optional<std::string> ip;  // the visitor's address, when the site bound it to one
};

// Checks `jwt` for `room` at `now_s`: the header's kid names one of the room's keys, or else a key
// of `jwks` (the keys fetched from the room's jwks_url, if any), and its alg is that key's (the
// token never chooses the algorithm: "none" and HS256-signed-with-a-public-key fail), the signature
// verifies, aud is the room's name (or an array holding it), exp is present, not past and at most
// kMaxInvitationLifetimeS ahead, nbf and iat are not in the future, sub and jti are non-empty
// strings, lane and ip strings when present. Every refusal is ErrorCode::unauthorized with a
// message a site's developer can act on.
core::Result<Invitation> verify_invitation(std::string_view jwt,
                                           const core::InvitationSettings& invitations,
                                           std::string_view room, std::int64_t now_s,
                                           const JwkSet* jwks = nullptr);

// The kid an invitation's header names, unverified: whether its key must come from the room's
// JWKS. Nothing when `jwt` is not a JWT (verify_invitation says why).
std::optional<std::string> invitation_kid(std::string_view jwt);

// Whether every public key of `invitations` parses as its alg needs (ES256: P-256 EC, RS256: RSA
// of 2048-8192 bits). bad_request naming the field, e.g. "invitations.keys[0].public_key".
core::Result<void> check_invitation_keys(const core::InvitationSettings& invitations);

}  // namespace waitroom::token
