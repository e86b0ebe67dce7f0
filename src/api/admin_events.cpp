#include "api/admin_events.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "api/json_io.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {
constexpr std::uint64_t kDefaultPage = 100;
constexpr std::uint64_t kMaxPage = 1000;
}  // namespace

asio::awaitable<Response> read_events(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  if (!s.feed)
    co_return http::problem(ctx.request, Status::conflict,
                            "events are not recorded: configure a [[webhooks]] sink or set "
                            "keep_events = true");
  const auto room_param = http::query_param(ctx.query, "room");
  if (!room_param || room_param->empty())
    co_return http::problem(ctx.request, Status::bad_request,
                            "room is required: events are numbered per room");
  const std::string room(*room_param);
  auto after = query_uint(ctx.query, "after", 0, 0, UINT64_MAX / 2);
  if (!after) co_return http::problem(ctx.request, after.error());
  auto limit = query_uint(ctx.query, "limit", kDefaultPage, 1, kMaxPage);
  if (!limit) co_return http::problem(ctx.request, limit.error());
  const ops::EventFeed::Page page = s.feed->read(room, *after, *limit);
  if (!page.known) {
    // A room with no event yet, or no room at all.
    auto exists = co_await s.store.room(room);
    if (!exists) co_return http::problem(ctx.request, exists.error());
  }
  // Events let go (every webhook had them, or past webhook_max_lag_mb) before this read.
  const std::uint64_t missed = page.oldest > *after + 1                   ? page.oldest - *after - 1
                               : page.oldest == 0 && page.newest > *after ? page.newest - *after
                                                                          : 0;
  const std::uint64_t next_after = page.events.empty() ? *after + missed : page.events.back().seq;
  std::string body = fmt::format(
      R"({{"room":{},"oldest":{},"newest":{},"next_after":{},"missed":{},"more":{},"events":[)",
      boost::json::serialize(boost::json::string(room)), page.oldest, page.newest, next_after,
      missed, next_after < page.newest ? "true" : "false");
  for (std::size_t i = 0; i < page.events.size(); ++i) {
    if (i > 0) body += ',';
    ops::append_event_json(body, page.events[i].room, page.events[i].seq, page.events[i].event);
  }
  body += "]}";
  co_return http::json_response(ctx.request, Status::ok, std::move(body));
}

}  // namespace waitroom::api
