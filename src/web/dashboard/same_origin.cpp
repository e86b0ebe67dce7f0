#include "web/dashboard/same_origin.hpp"

#include <algorithm>
#include <cctype>

namespace waitroom::web::dashboard {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// "https://host:port" -> "host:port"; empty when it is not an http(s) origin.
std::string_view authority_of(std::string_view origin) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() > scheme.size() && iequals(origin.substr(0, scheme.size()), scheme)) {
      std::string_view rest = origin.substr(scheme.size());
      if (rest.find_first_of("/?#@") != std::string_view::npos) return {};
      return rest;
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> cross_origin_reason(const OriginHeaders& h) {
  if (!h.sec_fetch_site.empty() && !iequals(h.sec_fetch_site, "same-origin"))
    return "refused: the request came from another site (Sec-Fetch-Site: " +
           std::string(h.sec_fetch_site) + ")";
  if (h.origin.empty()) return std::nullopt;
  if (!h.public_url.empty() && iequals(h.origin, h.public_url)) return std::nullopt;
  const std::string_view authority = authority_of(h.origin);
  if (!authority.empty() && !h.host.empty() && iequals(authority, h.host)) return std::nullopt;
  return "refused: the request came from another origin (" + std::string(h.origin.substr(0, 100)) +
         ")";
}

}  // namespace waitroom::web::dashboard
