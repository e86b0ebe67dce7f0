#pragma once
// The operator's API under /admin/v1. Every route requires `Authorization: Bearer <admin key>`,
// or the dashboard's session cookie plus its CSRF token for a change (api/admin_session.hpp).
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_admin_routes(http::Router& router, Services& services);
// Constant-time check of the request's bearer token against the configured admin key.
bool is_admin(const http::Request& req, std::string_view admin_key);

}  // namespace waitroom::api
