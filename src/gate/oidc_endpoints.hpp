#pragma once
// The OIDC adapter's three working endpoints, one file each; oidc_provider.cpp routes to them.
#include <boost/asio/awaitable.hpp>

#include "gate/oidc_common.hpp"
#include "http/message.hpp"

namespace waitroom::gate {

// GET /oidc/{room}/authorize (oidc_authorize.cpp)
boost::asio::awaitable<http::Response> oidc_authorize(OidcContext& oidc, http::RequestContext& ctx);
// POST /oidc/{room}/token (oidc_token.cpp)
boost::asio::awaitable<http::Response> oidc_token(OidcContext& oidc, http::RequestContext& ctx);
// GET and POST /oidc/{room}/userinfo (oidc_userinfo.cpp)
boost::asio::awaitable<http::Response> oidc_userinfo(OidcContext& oidc, http::RequestContext& ctx);

}  // namespace waitroom::gate
