#pragma once
// Whether a state-changing request was sent by a page of this server (defence in depth beside
// the CSRF token). Browsers send `Sec-Fetch-Site` and `Origin` on every POST, PUT and DELETE; a
// request that carries neither (an old browser, a script) is left to the CSRF token alone.
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::web::dashboard {

struct OriginHeaders {
  std::string_view sec_fetch_site;  // "same-origin", "same-site", "cross-site", "none" or empty
  std::string_view origin;          // "https://queue.example.com", "null" or empty
  std::string_view host;            // the Host header
  std::string_view public_url;      // the server's configured public_url, may be empty
};

// Why the request is refused; nullopt when it may come from this server's pages.
std::optional<std::string> cross_origin_reason(const OriginHeaders& h);

}  // namespace waitroom::web::dashboard
