#pragma once
// The URLs a room names for the server or a browser to go to with something worth protecting (an
// OIDC client's redirect_uri, an invitation JWKS): https anywhere; plain http only to a loopback
// host (localhost, 127.0.0.0/8, [::1]), where nothing on the network can read or change what
// travels (RFC 8252 section 7.3, and local development).
#include <cstddef>
#include <string_view>

namespace waitroom::core {

inline constexpr std::size_t kMaxHttpsUrlBytes = 2048;

// An absolute http(s) URL of at most kMaxHttpsUrlBytes without fragment or user info, https
// unless its host is a loopback one.
bool is_https_or_loopback_url(std::string_view url);

}  // namespace waitroom::core
