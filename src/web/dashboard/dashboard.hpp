#pragma once
// The operator's dashboard at /admin (docs/dashboard.md): sign in with the admin key or an
// operator token, then watch the rooms' numbers and drive what the caller's role allows. The page
// is a shell; its script calls /admin/v1 with the session cookie and the session's CSRF token.
//
//   GET  /admin                         the sign-in form, or the dashboard when signed in
//   POST /admin/session                 sign in (form field `key`: the admin key or an operator
//                                       token): a session cookie, 303 to /admin
//   POST /admin/session/delete          sign out (form field `csrf`), 303 to /admin
//
// Both pages speak the operator's language, chosen as the visitor page chooses (?lang=, then
// Accept-Language); the forms carry an explicit `lang` and the redirects keep it (/admin?lang=de).
//   GET  /admin/assets/dashboard.css    the stylesheet and script, compiled into the binary
//   GET  /admin/assets/dashboard.js
#include "api/admin_session.hpp"
#include "config/server_config.hpp"
#include "core/clock.hpp"
#include "http/router.hpp"
#include "store/operator_tokens.hpp"
#include "web/i18n.hpp"

namespace waitroom::web::dashboard {

inline constexpr std::string_view kSessionCookie = "waitroom_admin";

// What the dashboard uses: the admin key and its [dashboard] settings, the clock its sessions
// expire by, and the operator tokens one may sign in with (null: the admin key only). Built in
// app/; it outlives the router.
struct DashboardDeps {
  const config::ServerConfig& config;
  const core::Clock& clock;
  store::OperatorTokens* tokens = nullptr;
};

// Adds the routes above. Returns the dashboard's sessions, for the admin API to accept on
// /admin/v1 (api::AdminDeps::sessions); null when the dashboard is off (its built-in pages did not
// load). The sessions live as long as the router's handlers; `languages` (the visitor page's
// catalogs) must outlive them too.
api::AdminSessionCheck* add_dashboard_routes(http::Router& router, const DashboardDeps& deps,
                                             const Languages& languages);

}  // namespace waitroom::web::dashboard
