#pragma once
// /admin/v1/rooms/{room}/codes: a room's access codes (core/room_codes.hpp) created, listed and
// revoked by an operator. A new code's text is in the creation's answer only.
#include <boost/asio/awaitable.hpp>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "http/message.hpp"

namespace waitroom::api {

// POST {"lane": "vip" | "admit": true, "uses"?: 1, "expires_at"?: RFC 3339 | "expires_in_s"?,
// "code"?: the operator's own text} -> 201 with "code".
boost::asio::awaitable<http::Response> create_code(const AdminDeps& deps, http::RequestContext& ctx,
                                                   const AdminCaller& caller);
boost::asio::awaitable<http::Response> list_codes(const AdminDeps& deps, http::RequestContext& ctx,
                                                  const AdminCaller& caller);
// DELETE .../codes/{id}: refused from then on; it stays listed as revoked.
boost::asio::awaitable<http::Response> revoke_code(const AdminDeps& deps, http::RequestContext& ctx,
                                                   const AdminCaller& caller);

}  // namespace waitroom::api
