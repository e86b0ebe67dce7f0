#include "core/invitation_settings.hpp"

#include <string>

#include "core/https_url.hpp"
#include "core/printable.hpp"

namespace waitroom::core {

Result<void> validate(const InvitationSettings& invitations) {
  if (invitations.keys.size() > kMaxInvitationKeys)
    return fail(ErrorCode::bad_request,
                "invitations.keys: at most " + std::to_string(kMaxInvitationKeys) + " per room");
  if (!invitations.jwks_url.empty() && !is_https_or_loopback_url(invitations.jwks_url))
    return fail(ErrorCode::bad_request,
                "invitations.jwks_url must be an https:// URL (http:// only to a loopback host) of "
                "at most " +
                    std::to_string(kMaxHttpsUrlBytes) + " bytes");
  if (invitations.invite_only && invitations.keys.empty() && invitations.jwks_url.empty())
    return fail(ErrorCode::bad_request,
                "invite_only needs a key in invitations.keys or an invitations.jwks_url to check "
                "invitations with");
  for (std::size_t i = 0; i < invitations.keys.size(); ++i) {
    const InvitationKey& k = invitations.keys[i];
    const std::string field = "invitations.keys[" + std::to_string(i) + "]";
    if (k.kid.empty() || k.kid.size() > kMaxInvitationKidBytes || !is_printable_ascii(k.kid))
      return fail(ErrorCode::bad_request, field + ".kid must be 1-" +
                                              std::to_string(kMaxInvitationKidBytes) +
                                              " printable ASCII characters");
    for (std::size_t j = 0; j < i; ++j)
      if (invitations.keys[j].kid == k.kid)
        return fail(ErrorCode::bad_request, field + ".kid \"" + k.kid + "\" is listed twice");
    if (k.alg == "HS256") {
      if (!k.public_key.empty())
        return fail(ErrorCode::bad_request,
                    field + ": an HS256 key has a secret, not a public_key");
      if (k.secret.size() < kMinInvitationSecretBytes ||
          k.secret.size() > kMaxInvitationSecretBytes)
        return fail(ErrorCode::bad_request,
                    field + ".secret must be " + std::to_string(kMinInvitationSecretBytes) + "-" +
                        std::to_string(kMaxInvitationSecretBytes) + " bytes");
    } else if (k.alg == "ES256" || k.alg == "RS256") {
      if (!k.secret.empty())
        return fail(ErrorCode::bad_request,
                    field + ": an " + k.alg + " key has a public_key, not a secret");
      if (k.public_key.empty() || k.public_key.size() > kMaxInvitationPublicKeyBytes)
        return fail(
            ErrorCode::bad_request,
            field + ".public_key must be a PEM public key (\"-----BEGIN PUBLIC KEY-----\")");
    } else {
      return fail(ErrorCode::bad_request,
                  field + ".alg must be \"ES256\", \"RS256\" or \"HS256\", not \"" + k.alg + "\"");
    }
  }
  return {};
}

}  // namespace waitroom::core
