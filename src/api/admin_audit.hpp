#pragma once
// The audit trail on the admin API's side (docs/security.md, "Audit trail"): every change an
// admin route made is recorded with its caller (store/audit_trail.hpp), and
// GET /admin/v1/audit?room=&actor=&after=&limit= reads it.
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <string>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "core/room_settings.hpp"
#include "http/message.hpp"

namespace waitroom::api {

using AdminHandler = boost::asio::awaitable<http::Response> (*)(const AdminDeps&,
                                                                http::RequestContext&);

// Runs `handler` for `caller` and, when it changed something (a 2xx to a method other than GET),
// appends the audit entry: the caller, `route` (the method and the route's pattern), the room,
// the request's fields (a room's settings as before -> after instead).
boost::asio::awaitable<http::Response> run_audited(const AdminDeps& deps, AdminHandler handler,
                                                   http::RequestContext& ctx, AdminCaller caller,
                                                   std::string route);

// [{"setting", "from", "to"}, ...]: what a room's settings change (secrets hidden).
boost::json::array settings_changes_json(const core::RoomSettings& from,
                                         const core::RoomSettings& to);

boost::asio::awaitable<http::Response> read_audit(const AdminDeps& deps, http::RequestContext& ctx);

}  // namespace waitroom::api
