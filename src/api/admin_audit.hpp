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
                                                                http::RequestContext&,
                                                                const AdminCaller&);

// Runs `handler` for `caller` and, when it changed something (a 2xx to a method other than GET),
// appends the audit entry: the caller, `route` (the method and the route's pattern), the room,
// the request's fields (a room's settings as before -> after instead).
boost::asio::awaitable<http::Response> run_audited(const AdminDeps& deps, AdminHandler handler,
                                                   http::RequestContext& ctx, AdminCaller caller,
                                                   std::string route);

// Appends the audit entry of a change `caller` made through `action` (the method and route
// pattern) with answer `status`; nothing without a trail. A failure to record is logged: the
// change is made and answered by then.
void record_change(store::AuditTrail* audit, const core::Clock& clock, const AdminCaller& caller,
                   const http::RequestContext& ctx, std::string action, std::string room,
                   int status, boost::json::object details);

// [{"setting", "from", "to"}, ...]: what a room's settings change (secrets hidden).
boost::json::array settings_changes_json(const core::RoomSettings& from,
                                         const core::RoomSettings& to);

boost::asio::awaitable<http::Response> read_audit(const AdminDeps& deps, http::RequestContext& ctx,
                                                  const AdminCaller& caller);

}  // namespace waitroom::api
