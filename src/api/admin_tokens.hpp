#pragma once
// /admin/v1/tokens: operator tokens (api/admin_access.hpp, store/operator_tokens.hpp) created,
// listed and revoked by an admin. A new token's text is in the creation's answer only.
#include <boost/asio/awaitable.hpp>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "http/message.hpp"

namespace waitroom::api {

// POST {"name", "role", "rooms"?, "expires_at"? (Unix s) | "expires_in_s"?} -> 201 with "token".
boost::asio::awaitable<http::Response> create_token(const AdminDeps& deps,
                                                    http::RequestContext& ctx,
                                                    const AdminCaller& caller);
boost::asio::awaitable<http::Response> list_tokens(const AdminDeps& deps, http::RequestContext& ctx,
                                                   const AdminCaller& caller);
// DELETE /admin/v1/tokens/{id}: refused at once from then on, on every node.
boost::asio::awaitable<http::Response> revoke_token(const AdminDeps& deps,
                                                    http::RequestContext& ctx,
                                                    const AdminCaller& caller);

}  // namespace waitroom::api
