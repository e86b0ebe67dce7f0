#pragma once
// /admin/v1/rooms/{room}/inventory: the items a room has left to sell (engine/inventory_ops.hpp;
// docs/admission.md, "Inventory"). At 0 the room is sold out; the site's completed sessions take
// what they bought off it (PUT .../sessions/{ticket} {"status": "completed", "consumed": n}).
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "engine/inventory_ops.hpp"
#include "http/message.hpp"

namespace waitroom::api {

// POST {"set": n | null} or {"add": k} -> 200 with the inventory now.
boost::asio::awaitable<http::Response> change_inventory(const AdminDeps& deps,
                                                        http::RequestContext& ctx,
                                                        const AdminCaller& caller);
boost::asio::awaitable<http::Response> get_inventory(const AdminDeps& deps,
                                                     http::RequestContext& ctx,
                                                     const AdminCaller& caller);
// As the routes and the room's stats show it.
boost::json::object inventory_json(const engine::InventoryView& view);

}  // namespace waitroom::api
