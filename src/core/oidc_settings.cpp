#include "core/oidc_settings.hpp"

#include <string>

namespace waitroom::core {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_printable_ascii(std::string_view s) {
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8 written as four decimal parts.
  if (!starts_with(host, "127.")) return false;
  int parts = 0;
  while (!host.empty()) {
    const auto dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    if (!is_digits(part) || part.size() > 3 || std::stoi(std::string(part)) > 255) return false;
    ++parts;
    host = dot == std::string_view::npos ? std::string_view{} : host.substr(dot + 1);
  }
  return parts == 4;
}

}  // namespace

bool is_valid_redirect_uri(std::string_view uri) {
  if (uri.empty() || uri.size() > kMaxRedirectUriBytes || !is_printable_ascii(uri)) return false;
  if (uri.find('#') != std::string_view::npos || uri.find('\\') != std::string_view::npos)
    return false;
  const bool https = starts_with(uri, "https://");
  if (!https && !starts_with(uri, "http://")) return false;
  const std::string_view rest = uri.substr(https ? 8 : 7);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || !is_digits(port = after.substr(1))))
      return false;
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (!is_digits(port)) return false;
  }
  if (host.empty() || port.size() > 5) return false;
  return https || is_loopback_host(host);
}

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
      if (!is_valid_redirect_uri(c.redirect_uris[j]))
        return fail(ErrorCode::bad_request, field + ".redirect_uris[" + std::to_string(j) +
                                                "] must be an absolute https:// URL without a "
                                                "fragment (http:// only for localhost, "
                                                "127.0.0.0/8 or [::1])");
  }
  return {};
}

}  // namespace waitroom::core
