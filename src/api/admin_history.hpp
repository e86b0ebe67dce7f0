#pragma once
// GET /admin/v1/rooms/{room}/history: the dashboard's charts, as JSON or (Accept: text/csv) as
// a spreadsheet. The 10-second samples of the last hour by default; the minutes kept for
// history_days at a step of a minute or more (api/history_range.hpp).
#include <boost/asio/awaitable.hpp>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "http/message.hpp"

namespace waitroom::api {

boost::asio::awaitable<http::Response> room_history(const AdminDeps& deps,
                                                    http::RequestContext& ctx,
                                                    const AdminCaller& caller);

}  // namespace waitroom::api
