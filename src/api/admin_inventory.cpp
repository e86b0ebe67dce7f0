#include "api/admin_inventory.hpp"

#include "api/json_io.hpp"
#include "http/problem.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;

namespace {

core::Result<engine::InventoryChange> read_change(const json::object& body) {
  using core::ErrorCode;
  using core::fail;
  const std::string usage =
      "the body must be {\"set\": n} (or null: count no items) or {\"add\": k}";
  if (body.size() != 1) return fail(ErrorCode::bad_request, usage);
  engine::InventoryChange change;
  if (const json::value* set = body.if_contains("set")) {
    if (set->is_null()) {
      change.set = std::optional<std::uint64_t>{};
    } else if (set->is_int64() && set->get_int64() >= 0) {
      change.set = static_cast<std::uint64_t>(set->get_int64());
    } else if (set->is_uint64()) {
      change.set = set->get_uint64();
    } else {
      return fail(ErrorCode::bad_request, "set must be a whole number of items from 0, or null");
    }
  } else if (const json::value* add = body.if_contains("add")) {
    if (!add->is_int64() || add->get_int64() == 0)
      return fail(ErrorCode::bad_request, "add must be a whole number of items other than 0");
    change.add = add->get_int64();
  } else {
    return fail(ErrorCode::bad_request, usage);
  }
  return change;
}

}  // namespace

json::object inventory_json(const engine::InventoryView& v) {
  return json::object{{"left", v.left ? json::value(*v.left) : json::value(nullptr)},
                      {"reserved", v.reserved},
                      {"available", v.left ? json::value(*v.left - v.reserved) : nullptr},
                      {"reserve_per_session", v.reserve_per_session},
                      {"sold_out", v.sold_out}};
}

asio::awaitable<Response> change_inventory(const AdminDeps& s, RequestContext& ctx,
                                           const AdminCaller& caller) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  auto change = read_change(*body);
  if (!change) co_return http::problem(ctx.request, change.error());
  const std::string room(ctx.param("room"));
  auto view = co_await s.store.change_inventory(room, *change, caller.actor());
  if (!view) co_return http::problem(ctx.request, view.error());
  json::object out = inventory_json(*view);
  out["room"] = room;
  co_return json_ok(ctx.request, out);
}

asio::awaitable<Response> get_inventory(const AdminDeps& s, RequestContext& ctx,
                                        const AdminCaller&) {
  const std::string room(ctx.param("room"));
  auto view = co_await s.store.inventory(room);
  if (!view) co_return http::problem(ctx.request, view.error());
  json::object out = inventory_json(*view);
  out["room"] = room;
  co_return json_ok(ctx.request, out);
}

}  // namespace waitroom::api
