#pragma once
// What the OIDC adapter's endpoints share: their dependencies, the code table, the issuer of a
// room, and the error answers of RFC 6749 (which are not problem+json: relying-party libraries
// read {"error", "error_description"}).
#include <optional>
#include <string>
#include <string_view>

#include "gate/oidc_codes.hpp"
#include "gate/oidc_provider.hpp"
#include "http/message.hpp"

namespace waitroom::gate {

struct OidcContext {
  explicit OidcContext(const OidcDeps& d) : deps(d) {}
  const OidcDeps& deps;
  OidcCodes codes;
};

// "{public_url}/oidc/{room}" when public_url is set (production: one issuer whatever the route a
// request took), else "http://{Host}/oidc/{room}" from the request; nullopt for a Host header that
// is missing or not a plain host[:port].
std::optional<std::string> oidc_issuer(const OidcDeps& s, const http::Request& req,
                                       std::string_view room);

// RFC 6749 section 5.2: {"error", "error_description"} with 400, Cache-Control: no-store. With
// `basic_challenge` (invalid_client after HTTP Basic authentication) the status is 401 and
// WWW-Authenticate names the Basic scheme, as section 5.2 requires.
http::Response oauth_error(const http::Request& req, std::string_view error,
                           std::string_view description, bool basic_challenge = false);

// RFC 6750 section 3: 401 with WWW-Authenticate: Bearer, and the same as JSON. When no token was
// presented at all the challenge carries no error code (section 3.1) and the body says
// invalid_request.
http::Response bearer_error(const http::Request& req, std::string_view error,
                            std::string_view description, bool token_presented = true);

// `base` with `params` appended to its query (percent-encoded), keeping a query it already has.
std::string with_query(std::string_view base,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> params);

}  // namespace waitroom::gate
