#include "api/admin_api.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <cmath>

#include "api/admin_events.hpp"
#include "api/admin_history.hpp"
#include "api/auth_log.hpp"
#include "api/json_io.hpp"
#include "config/room_settings_codec.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "token/algorithm.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::uint64_t kMaxAdvanceBy = 1'000'000'000;
constexpr std::uint64_t kMaxAdmissionsPage = 10'000;
constexpr std::uint64_t kDefaultAdmissionsPage = 1'000;
constexpr std::uint64_t kMaxClockAdvanceMs = 86'400'000;

using AdminHandler = asio::awaitable<Response> (*)(const AdminDeps&, RequestContext&);

http::Handler bind(const AdminDeps& s, AdminHandler f) {
  return [&s, f](RequestContext& ctx) { return f(s, ctx); };
}

json::object keys_json(const std::vector<token::KeyInfo>& keys) {
  json::array out;
  for (const auto& k : keys) {
    out.push_back(json::object{
        {"kid", k.kid},
        {"alg", token::algorithm_name(k.alg)},
        {"created_at", k.created_at_s},
        {"retired_at", k.retired_at_s ? json::value(*k.retired_at_s) : json::value(nullptr)},
        {"active", k.active}});
  }
  return json::object{{"keys", std::move(out)}};
}

asio::awaitable<Response> list_rooms(const AdminDeps& s, RequestContext& ctx) {
  auto rooms = co_await s.store.rooms();
  if (!rooms) co_return http::problem(ctx.request, rooms.error());
  json::array out;
  for (const auto& r : *rooms) out.push_back(room_admin_json(r));
  co_return json_ok(ctx.request, json::object{{"rooms", std::move(out)}});
}

asio::awaitable<Response> put_room(const AdminDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  if (!core::is_valid_room_name(room))
    co_return http::problem(ctx.request, Status::bad_request,
                            "room names are 1-64 of A-Z a-z 0-9 _ - (not starting with _ or -)");
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  // A named local, not a temporary inside the co_await expression: g++ 12 destroys such
  // temporaries twice on the error path.
  store::SettingsUpdate update =
      [fields = std::move(*body)](const std::optional<core::RoomSettings>& current) {
        return config::apply_room_settings(fields, current.value_or(core::RoomSettings{}));
      };
  auto result = co_await s.store.put_room(room, std::move(update));
  if (!result) co_return http::problem(ctx.request, result.error());
  s.abuse.forget(room);  // new limits apply to the next request, not a second later
  co_return json_ok(ctx.request, room_admin_json(result->first),
                    result->second ? Status::created : Status::ok);
}

asio::awaitable<Response> get_room(const AdminDeps& s, RequestContext& ctx) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, room_admin_json(*r));
}

asio::awaitable<Response> delete_room(const AdminDeps& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.delete_room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  s.abuse.forget(room);
  Response res{Status::no_content, ctx.request.version()};
  res.keep_alive(ctx.request.keep_alive());
  res.prepare_payload();
  co_return res;
}

asio::awaitable<Response> advance(const AdminDeps& s, RequestContext& ctx) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  for (const auto& [k, v] : *body)
    if (k != "by" && k != "to")
      co_return http::problem(ctx.request, Status::bad_request,
                              "unknown field \"" + std::string(k) + "\"");
  auto by = read_uint(*body, "by", 1, kMaxAdvanceBy);
  if (!by) co_return http::problem(ctx.request, by.error());
  auto to = read_uint(*body, "to", 0, core::kMaxPosition);
  if (!to) co_return http::problem(ctx.request, to.error());
  if (by->has_value() == to->has_value())
    co_return http::problem(ctx.request, Status::bad_request,
                            "give exactly one of \"by\" or \"to\"");
  auto serving = co_await s.store.advance(std::string(ctx.param("room")), store::Advance{*by, *to});
  if (!serving) co_return http::problem(ctx.request, serving.error());
  co_return json_ok(ctx.request, json::object{{"serving", *serving}});
}

asio::awaitable<Response> set_paused(const AdminDeps& s, RequestContext& ctx, bool paused) {
  auto r = co_await s.store.set_paused(std::string(ctx.param("room")), paused);
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, room_admin_json(*r));
}

asio::awaitable<Response> reset(const AdminDeps& s, RequestContext& ctx) {
  auto r = co_await s.store.reset(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, json::object{{"room", r->name},
                                              {"epoch", r->epoch},
                                              {"serving", r->counters.serving},
                                              {"queue_length", r->counters.queue_counter}});
}

asio::awaitable<Response> end_session(const AdminDeps& s, RequestContext& ctx) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  const json::value* status_field = body->if_contains("status");
  if (body->size() != 1 || !status_field || !status_field->is_string())
    co_return http::problem(
        ctx.request, Status::bad_request,
        "the body must be {\"status\": \"completed\"|\"abandoned\"|\"revoked\"}");
  auto status = core::parse_session_end(status_field->get_string());
  if (!status)
    co_return http::problem(ctx.request, Status::bad_request,
                            "status must be \"completed\", \"abandoned\" or \"revoked\"");
  auto t = co_await s.store.end_session(std::string(ctx.param("room")),
                                        std::string(ctx.param("ticket")), *status);
  if (!t) co_return http::problem(ctx.request, t.error());
  co_return json_ok(ctx.request, json::object{{"ticket", t->ticket},
                                              {"status", core::to_string(t->state.status)}});
}

asio::awaitable<Response> stats(const AdminDeps& s, RequestContext& ctx) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, stats_json(*r));
}

asio::awaitable<Response> admissions(const AdminDeps& s, RequestContext& ctx) {
  auto from = query_uint(ctx.query, "from", 1, 1, UINT64_MAX / 2);
  if (!from) co_return http::problem(ctx.request, from.error());
  auto limit = query_uint(ctx.query, "limit", kDefaultAdmissionsPage, 1, kMaxAdmissionsPage);
  if (!limit) co_return http::problem(ctx.request, limit.error());
  auto page = co_await s.store.admissions(std::string(ctx.param("room")), *from, *limit);
  if (!page) co_return http::problem(ctx.request, page.error());
  json::array out;
  for (const auto& a : page->admissions)
    out.push_back(json::object{{"seq", a.seq},
                               {"position", a.position},
                               {"ticket", a.ticket},
                               {"admitted_at", a.admitted_at_s}});
  co_return json_ok(
      ctx.request,
      json::object{{"admissions", std::move(out)}, {"next", page->next}, {"total", page->total}});
}

asio::awaitable<Response> get_clock(const AdminDeps& s, RequestContext& ctx) {
  co_return json_ok(ctx.request, json::object{{"now_ms", s.clock.now_ms()}});
}

// Moves the test clock in the driver's own steps, so minutes of admissions play out as they
// would in real time, only faster.
asio::awaitable<Response> advance_clock(const AdminDeps& s, RequestContext& ctx) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  for (const auto& [k, v] : *body)
    if (k != "advance_ms")
      co_return http::problem(ctx.request, Status::bad_request,
                              "unknown field \"" + std::string(k) + "\"");
  auto ms = read_uint(*body, "advance_ms", 1, kMaxClockAdvanceMs);
  if (!ms) co_return http::problem(ctx.request, ms.error());
  if (!*ms) co_return http::problem(ctx.request, Status::bad_request, "advance_ms is required");
  for (std::int64_t left = static_cast<std::int64_t>(**ms); left > 0;
       left -= store::kAdmissionStepMs) {
    s.manual_clock->advance_ms(std::min(left, store::kAdmissionStepMs));
    s.store.drive_admissions();
  }
  co_return json_ok(ctx.request, json::object{{"now_ms", s.clock.now_ms()}});
}

// Retired keys stay in the JWKS as long as a pass they signed can live.
asio::awaitable<Response> rotate_keys(const AdminDeps& s, RequestContext& ctx) {
  auto keys = s.keys.rotate(core::kMaxPassLifetimeS);
  if (!keys) co_return http::problem(ctx.request, keys.error());
  // The rotation happened here either way; the other nodes take the keys on SIGHUP once published.
  if (s.publish_keys)
    if (auto published = s.publish_keys(); !published)
      co_return http::problem(ctx.request,
                              core::Error{core::ErrorCode::unavailable,
                                          "the keys were rotated on this node but could not be "
                                          "published to the other nodes: " +
                                              published.error().detail,
                                          1});
  co_return json_ok(ctx.request, keys_json(*keys));
}

// Snapshots every room and drops the log records the snapshots replace (docs/operations.md).
asio::awaitable<Response> compact(const AdminDeps& s, RequestContext& ctx) {
  auto report = co_await s.store.compact();
  if (!report) co_return http::problem(ctx.request, report.error());
  co_return json_ok(
      ctx.request,
      json::object{{"rooms", report->rooms},
                   {"bytes_before", report->bytes_before},
                   {"bytes_after", report->bytes_after},
                   {"bytes_dropped",
                    report->bytes_before - std::min(report->bytes_before, report->bytes_after)},
                   {"records_before", report->records_before},
                   {"records_after", report->records_after},
                   {"took_ms", report->took_ms}});
}

asio::awaitable<Response> list_keys(const AdminDeps& s, RequestContext& ctx) {
  co_return json_ok(ctx.request, keys_json(s.keys.list()));
}

}  // namespace

bool is_admin(const http::Request& req, std::string_view admin_key) {
  if (admin_key.empty()) return false;
  const std::string_view value = http::bearer_token(req);
  return value.size() == admin_key.size() &&
         CRYPTO_memcmp(value.data(), admin_key.data(), admin_key.size()) == 0;
}

void add_admin_routes(http::Router& router, const AdminDeps& s) {
  using http::Method;
  // /admin/ is Waitroom's: the built-in proxy never forwards it. Outside /admin/v1 it is the
  // dashboard's (web/dashboard): a sign-in page and assets anyone may fetch, and handlers that
  // check the dashboard session themselves.
  router.guard(
      "/admin/",
      [](const http::Request&, const boost::asio::ip::address&) -> std::optional<Response> {
        return std::nullopt;
      });
  // Every path under /admin/v1 needs the key (or a dashboard session), before routing: unknown
  // paths and wrong methods answer 401 too, so nothing about the admin API shows without it.
  router.guard("/admin/v1",
               [&s](const http::Request& req,
                    const boost::asio::ip::address& peer) -> std::optional<Response> {
                 if (is_admin(req, s.config.admin_key)) return std::nullopt;
                 if (s.sessions && !s.config.admin_key.empty()) {
                   const SessionAccess access = s.sessions->check(req);
                   if (access.verdict == SessionAccess::Verdict::allowed) return std::nullopt;
                   if (access.verdict == SessionAccess::Verdict::forbidden) {
                     log_auth_failure("dashboard_session", req, peer, access.reason);
                     return http::problem(req, Status::forbidden, access.reason);
                   }
                 }
                 log_auth_failure("admin_key", req, peer,
                                  s.config.admin_key.empty() ? "the admin API is disabled"
                                  : http::bearer_token(req).empty()
                                      ? "no admin key or dashboard session"
                                      : "wrong admin key");
                 return http::problem(
                     req, Status::unauthorized,
                     s.config.admin_key.empty()
                         ? "the admin API is disabled: set WAITROOM_ADMIN_KEY or admin_key_file"
                         : "a valid admin key is required (Authorization: Bearer <key>)");
               });
  const std::string base = "/admin/v1/rooms";
  router.add(Method::get, base, bind(s, list_rooms));
  router.add(Method::put, base + "/{room}", bind(s, put_room));
  router.add(Method::get, base + "/{room}", bind(s, get_room));
  router.add(Method::delete_, base + "/{room}", bind(s, delete_room));
  router.add(Method::post, base + "/{room}/advance", bind(s, advance));
  router.add(Method::post, base + "/{room}/pause",
             [&s](RequestContext& c) { return set_paused(s, c, true); });
  router.add(Method::post, base + "/{room}/resume",
             [&s](RequestContext& c) { return set_paused(s, c, false); });
  router.add(Method::post, base + "/{room}/reset", bind(s, reset));
  router.add(Method::put, base + "/{room}/sessions/{ticket}", bind(s, end_session));
  router.add(Method::get, base + "/{room}/stats", bind(s, stats));
  router.add(Method::get, base + "/{room}/admissions", bind(s, admissions));
  router.add(Method::get, base + "/{room}/history", bind(s, room_history));
  if (s.manual_clock) {
    router.add(Method::get, "/admin/v1/testing/clock", bind(s, get_clock));
    router.add(Method::post, "/admin/v1/testing/clock", bind(s, advance_clock));
  }
  router.add(Method::post, "/admin/v1/compact", bind(s, compact));
  router.add(Method::get, "/admin/v1/events", bind(s, read_events));
  router.add(Method::get, "/admin/v1/keys", bind(s, list_keys));
  router.add(Method::post, "/admin/v1/keys/rotate", bind(s, rotate_keys));
}

}  // namespace waitroom::api
