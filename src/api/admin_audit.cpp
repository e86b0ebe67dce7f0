#include "api/admin_audit.hpp"

#include <boost/json.hpp>

#include "api/auth_log.hpp"
#include "api/json_io.hpp"
#include "config/room_settings_codec.hpp"
#include "config/room_settings_diff.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "ops/log.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {
constexpr std::uint64_t kDefaultPage = 100;
constexpr std::uint64_t kMaxPage = 1000;

}  // namespace

json::array settings_changes_json(const core::RoomSettings& from, const core::RoomSettings& to) {
  json::array out;
  for (const auto& c : config::diff_room_settings(from, to))
    out.push_back(json::object{{"setting", c.setting}, {"from", c.from}, {"to", c.to}});
  return out;
}

asio::awaitable<Response> run_audited(const AdminDeps& s, AdminHandler handler, RequestContext& ctx,
                                      AdminCaller caller, std::string route) {
  const bool changes = ctx.request.method() != http::Method::get;
  const std::string room(ctx.param("room"));
  // A room's settings (its own PUT, not one of a path below it: a session, the message): the
  // entry shows what changed, not the request (which may hold secrets).
  const bool settings =
      ctx.request.method() == http::Method::put && !room.empty() && route.ends_with("/{room}");
  std::optional<core::RoomSettings> before;
  if (changes && s.audit && settings) {
    auto current = co_await s.store.room(room);
    if (current) before = current->settings;
  }
  Response res = co_await handler(s, ctx, caller);
  if (!changes || !s.audit || res.result_int() >= 300) co_return res;

  json::object details;
  if (settings) {
    auto after = co_await s.store.room(room);
    details["created"] = !before.has_value();
    if (after)
      details["changes"] =
          settings_changes_json(before.value_or(core::RoomSettings{}), after->settings);
  } else if (auto body = read_json_object(ctx.request)) {
    details = std::move(*body);
  }
  for (const auto& [name, value] : ctx.params)
    if (name != "room") details[name] = value;
  record_change(s.audit, s.clock, caller, ctx, std::move(route), room, res.result_int(),
                std::move(details));
  co_return res;
}

void record_change(store::AuditTrail* audit, const core::Clock& clock, const AdminCaller& caller,
                   const RequestContext& ctx, std::string action, std::string room, int status,
                   json::object details) {
  if (!audit) return;
  store::AuditEntry e;
  e.at_ms = clock.now_ms();
  e.actor = caller.name;
  e.via = std::string(via_name(caller.via));
  e.token_id = caller.token_id;
  e.address = request_client(ctx.request, ctx.remote);
  e.action = std::move(action);
  e.room = std::move(room);
  e.status = status;
  e.details = std::move(details);
  if (auto kept = audit->append(std::move(e)); !kept)
    // The change is made and answered; what failed is its record.
    ops::log_error(
        "an admin change could not be recorded in the audit trail",
        {{"route", std::string(ctx.request.method_string()) + " " + std::string(ctx.path)},
         {"error", kept.error().detail}});
}

asio::awaitable<Response> read_audit(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  if (!s.audit)
    co_return http::problem(ctx.request, Status::conflict, "this server keeps no audit trail");
  store::AuditQuery q;
  q.room = http::query_param(ctx.query, "room").value_or("");
  q.actor = http::query_param(ctx.query, "actor").value_or("");
  auto after = query_uint(ctx.query, "after", 0, 0, UINT64_MAX / 2);
  if (!after) co_return http::problem(ctx.request, after.error());
  auto before = query_uint(ctx.query, "before", 0, 0, UINT64_MAX / 2);
  if (!before) co_return http::problem(ctx.request, before.error());
  auto limit = query_uint(ctx.query, "limit", kDefaultPage, 1, kMaxPage);
  if (!limit) co_return http::problem(ctx.request, limit.error());
  const std::string order = http::query_param(ctx.query, "order").value_or("oldest");
  if (order != "oldest" && order != "newest")
    co_return http::problem(ctx.request, Status::bad_request,
                            "order must be \"oldest\" or \"newest\"");
  q.after = *after;
  q.before = *before;
  q.newest_first = order == "newest";
  q.limit = *limit;
  auto entries = s.audit->read(q);
  if (!entries) co_return http::problem(ctx.request, entries.error());
  json::array out;
  for (const auto& e : *entries) out.push_back(audit_json(e));
  // The next page goes on from the last entry of this one, in the same order.
  json::object page{{"entries", std::move(out)}};
  if (q.newest_first)
    page["next_before"] = entries->empty() ? q.before : entries->back().id;
  else
    page["next_after"] = entries->empty() ? q.after : entries->back().id;
  co_return json_ok(ctx.request, std::move(page));
}

}  // namespace waitroom::api
