#include "core/login_settings.hpp"

#include <sstream>

#include "core/https_url.hpp"
#include "core/printable.hpp"

namespace waitroom::core {

namespace {
bool has_openid_scope(const std::string& scope) {
  std::istringstream words(scope);
  for (std::string word; words >> word;)
    if (word == "openid") return true;
  return false;
}
}  // namespace

Result<void> validate(const LoginSettings& l) {
  if (!is_https_or_loopback_url(l.issuer) || l.issuer.find('?') != std::string::npos)
    return fail(ErrorCode::bad_request,
                "login.issuer must be the identity provider's issuer: an https:// URL without a "
                "query or fragment (http:// only for localhost, 127.0.0.0/8 or [::1])");
  if (l.client_id.empty() || l.client_id.size() > kMaxLoginClientIdBytes ||
      !is_printable_ascii(l.client_id))
    return fail(ErrorCode::bad_request, "login.client_id must be 1-" +
                                            std::to_string(kMaxLoginClientIdBytes) +
                                            " printable ASCII characters without spaces");
  if (!l.client_secret.empty() && (l.client_secret.size() < kMinLoginClientSecretBytes ||
                                   l.client_secret.size() > kMaxLoginClientSecretBytes))
    return fail(ErrorCode::bad_request, "login.client_secret must be " +
                                            std::to_string(kMinLoginClientSecretBytes) + "-" +
                                            std::to_string(kMaxLoginClientSecretBytes) +
                                            " characters, or left out for a public client");
  if (l.scope.size() > kMaxLoginScopeBytes || !has_openid_scope(l.scope))
    return fail(ErrorCode::bad_request,
                "login.scope must be space-separated scopes that include \"openid\"");
  for (char c : l.scope)
    if (c != ' ' && (c < 0x21 || c > 0x7e))
      return fail(ErrorCode::bad_request, "login.scope must be printable ASCII");
  return {};
}

}  // namespace waitroom::core
