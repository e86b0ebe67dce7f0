#pragma once
// What the visitor layer's decisions need (the pass check, binding cookies, where a visitor
// without a pass is sent), and so what every visitor-facing route group holds: the public API,
// the demo shop, forward-auth and the built-in proxy use it as it is; the AWS-compatible API, the
// OIDC adapter and the room page extend it with what they need besides. Built in app/; it refers
// to objects that outlive the router.
#include "config/server_config.hpp"
#include "store/store.hpp"
#include "visitor/abuse_guard.hpp"
#include "visitor/notice_request.hpp"

namespace waitroom::visitor {

struct VisitorDeps {
  store::Store& store;
  AbuseGuard& abuse;  // rate limits, proof of work, pass binding (docs/security.md)
  const config::ServerConfig& config;  // cookie_secure, public_url, and each group's own keys
  // Leave and come back: what this server notifies by; null: no notifications at all.
  const NoticeSetup* notices = nullptr;
};

}  // namespace waitroom::visitor
