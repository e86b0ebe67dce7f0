#pragma once
// GET /admin/v1/events?room=ROOM&after=SEQ&limit=N: a room's events as the event feed keeps them
// (docs/events.md), oldest first, after the one numbered SEQ. Events are numbered per room; a
// reader continues from the page's next_after.
#include <boost/asio/awaitable.hpp>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "http/message.hpp"

namespace waitroom::api {

boost::asio::awaitable<http::Response> read_events(const AdminDeps& deps, http::RequestContext& ctx,
                                                   const AdminCaller& caller);

}  // namespace waitroom::api
