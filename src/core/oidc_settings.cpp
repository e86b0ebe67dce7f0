#include "core/oidc_settings.hpp"

#include <string>

#include "core/https_url.hpp"
#include "core/printable.hpp"

namespace waitroom::core {

Result<void> validate(const OidcSettings& oidc) {
  if (oidc.clients.size() > kMaxOidcClients)
    return fail(ErrorCode::bad_request,
                "oidc.clients: at most " + std::to_string(kMaxOidcClients) + " per room");
  for (std::size_t i = 0; i < oidc.clients.size(); ++i) {
    const OidcClient& c = oidc.clients[i];
    const std::string field = "oidc.clients[" + std::to_string(i) + "]";
    if (c.client_id.empty() || c.client_id.size() > kMaxOidcClientIdBytes ||
        !is_printable_ascii(c.client_id))
      return fail(ErrorCode::bad_request, field + ".client_id must be 1-" +
                                              std::to_string(kMaxOidcClientIdBytes) +
                                              " printable ASCII characters without spaces");
    for (std::size_t j = 0; j < i; ++j)
      if (oidc.clients[j].client_id == c.client_id)
        return fail(ErrorCode::bad_request, field + ".client_id \"" + c.client_id +
                                                "\" is already used by oidc.clients[" +
                                                std::to_string(j) + "]");
    if (c.is_public && !c.client_secret.empty())
      return fail(ErrorCode::bad_request,
                  field + ".client_secret: a public client has no secret (it uses PKCE)");
    if (!c.is_public && (c.client_secret.size() < kMinOidcClientSecretBytes ||
                         c.client_secret.size() > kMaxOidcClientSecretBytes))
      return fail(ErrorCode::bad_request,
                  field + ".client_secret is required for a confidential client: " +
                      std::to_string(kMinOidcClientSecretBytes) + "-" +
                      std::to_string(kMaxOidcClientSecretBytes) + " characters");
    if (c.redirect_uris.empty() || c.redirect_uris.size() > kMaxOidcRedirectUris)
      return fail(ErrorCode::bad_request, field + ".redirect_uris must list 1-" +
                                              std::to_string(kMaxOidcRedirectUris) + " URLs");
    for (std::size_t j = 0; j < c.redirect_uris.size(); ++j)
      if (!is_https_or_loopback_url(c.redirect_uris[j]))
        return fail(ErrorCode::bad_request, field + ".redirect_uris[" + std::to_string(j) +
                                                "] must be an absolute https:// URL without a "
                                                "fragment (http:// only for localhost, "
                                                "127.0.0.0/8 or [::1])");
  }
  return {};
}

}  // namespace waitroom::core
