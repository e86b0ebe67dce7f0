#include "api/admin_api.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <cmath>

#include "api/admin_access.hpp"
#include "api/admin_audit.hpp"
#include "api/admin_codes.hpp"
#include "api/admin_events.hpp"
#include "api/admin_history.hpp"
#include "api/admin_inventory.hpp"
#include "api/admin_signals.hpp"
#include "api/admin_tokens.hpp"
#include "api/auth_log.hpp"
#include "api/json_io.hpp"
#include "config/room_settings_codec.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "token/algorithm.hpp"
#include "token/web_push.hpp"
#include "visitor/status_json.hpp"

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

using store::OperatorRole;

asio::awaitable<Response> answered(Response res) { co_return res; }

Response no_content(const http::Request& req) {
  Response res{Status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

// The route's handler, for callers with `role` (api/admin_access.hpp) that may use the route's
// room: the path's {room}, or the `room` query parameter of a route of none (the event feed).
// `listing`: a route of every room that shows a token of some rooms only those (the room list).
// What it changes goes into the audit trail as `route` (api/admin_audit.hpp).
http::Handler bind(const AdminDeps& s, AdminHandler f, OperatorRole role, std::string route,
                   bool listing) {
  return [&s, f, role, route = std::move(route), listing](RequestContext& ctx) {
    auto caller = identify_caller(s, ctx.request, ctx.remote);
    if (!caller) return answered(std::move(caller.error()));
    std::string_view room = ctx.param("room");
    const auto asked = room.empty() ? http::query_param(ctx.query, "room") : std::nullopt;
    if (asked) room = *asked;
    AdminCaller checked = *caller;
    if (listing) checked.rooms.clear();  // the handler shows the caller's rooms only
    if (auto refused = refuse_caller(ctx.request, checked, role, room))
      return answered(std::move(*refused));
    return run_audited(s, f, ctx, std::move(*caller), route);
  };
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

asio::awaitable<Response> list_rooms(const AdminDeps& s, RequestContext& ctx,
                                     const AdminCaller& caller) {
  auto rooms = co_await s.store.rooms();
  if (!rooms) co_return http::problem(ctx.request, rooms.error());
  // A token limited to some rooms sees those.
  json::array out;
  for (const auto& r : *rooms)
    if (caller.may_use_room(r.name)) out.push_back(room_admin_json(r));
  co_return json_ok(ctx.request, json::object{{"rooms", std::move(out)}});
}

asio::awaitable<Response> put_room(const AdminDeps& s, RequestContext& ctx,
                                   const AdminCaller& caller) {
  const std::string room(ctx.param("room"));
  if (!core::is_valid_room_name(room))
    co_return http::problem(ctx.request, Status::bad_request,
                            "room names are 1-64 of A-Z a-z 0-9 _ - (not starting with _ or -)");
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  // An operator changes a room's settings; creating one takes an admin.
  if (caller.role < OperatorRole::admin) {
    auto existing = co_await s.store.room(room);
    if (!existing && existing.error().code == ErrorCode::not_found)
      co_return http::problem(
          ctx.request, Status::forbidden,
          "creating a room needs the admin role; the token \"" + caller.name + "\" is an operator");
    if (!existing) co_return http::problem(ctx.request, existing.error());
  }
  // A named local, not a temporary inside the co_await expression: g++ 12 destroys such
  // temporaries twice on the error path.
  store::SettingsUpdate update =
      [fields = std::move(*body)](const std::optional<core::RoomSettings>& current) {
        return config::apply_room_settings(fields, current.value_or(core::RoomSettings{}));
      };
  auto result = co_await s.store.put_room(room, std::move(update), caller.actor());
  if (!result) co_return http::problem(ctx.request, result.error());
  s.abuse.forget(room);  // new limits apply to the next request, not a second later
  co_return json_ok(ctx.request, room_admin_json(result->first),
                    result->second ? Status::created : Status::ok);
}

asio::awaitable<Response> get_room(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  auto r = co_await s.store.room(std::string(ctx.param("room")));
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, room_admin_json(*r));
}

asio::awaitable<Response> delete_room(const AdminDeps& s, RequestContext& ctx,
                                      const AdminCaller& caller) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.delete_room(room, caller.actor());
  if (!r) co_return http::problem(ctx.request, r.error());
  s.abuse.forget(room);
  co_return no_content(ctx.request);
}

asio::awaitable<Response> advance(const AdminDeps& s, RequestContext& ctx,
                                  const AdminCaller& caller) {
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
  auto serving = co_await s.store.advance(std::string(ctx.param("room")), store::Advance{*by, *to},
                                          caller.actor());
  if (!serving) co_return http::problem(ctx.request, serving.error());
  co_return json_ok(ctx.request, json::object{{"serving", *serving}});
}

asio::awaitable<Response> set_paused(const AdminDeps& s, RequestContext& ctx,
                                     const AdminCaller& caller, bool paused) {
  auto r = co_await s.store.set_paused(std::string(ctx.param("room")), paused, caller.actor());
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, room_admin_json(*r));
}

asio::awaitable<Response> pause_room(const AdminDeps& s, RequestContext& ctx,
                                     const AdminCaller& caller) {
  return set_paused(s, ctx, caller, true);
}
asio::awaitable<Response> resume_room(const AdminDeps& s, RequestContext& ctx,
                                      const AdminCaller& caller) {
  return set_paused(s, ctx, caller, false);
}

asio::awaitable<Response> reset(const AdminDeps& s, RequestContext& ctx,
                                const AdminCaller& caller) {
  auto r = co_await s.store.reset(std::string(ctx.param("room")), caller.actor());
  if (!r) co_return http::problem(ctx.request, r.error());
  co_return json_ok(ctx.request, json::object{{"room", r->name},
                                              {"epoch", r->epoch},
                                              {"serving", r->counters.serving},
                                              {"queue_length", r->counters.queue_counter}});
}

// PUT {"text": "..."}: the operators' message to everyone waiting (core/room_message.hpp checks
// the text); DELETE clears it (204, also when there was none).
asio::awaitable<Response> put_message(const AdminDeps& s, RequestContext& ctx,
                                      const AdminCaller& caller) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  const json::value* text_field = body->if_contains("text");
  if (body->size() != 1 || !text_field || !text_field->is_string())
    co_return http::problem(ctx.request, Status::bad_request,
                            "the body must be {\"text\": \"...\"}");
  auto text = core::message_text(text_field->get_string());
  if (!text) co_return http::problem(ctx.request, text.error());
  const std::string room(ctx.param("room"));
  auto message = co_await s.store.set_message(room, std::move(*text), caller.actor());
  if (!message) co_return http::problem(ctx.request, message.error());
  co_return json_ok(ctx.request,
                    json::object{{"room", room}, {"message", visitor::message_json(*message)}});
}

asio::awaitable<Response> delete_message(const AdminDeps& s, RequestContext& ctx,
                                         const AdminCaller& caller) {
  auto cleared =
      co_await s.store.set_message(std::string(ctx.param("room")), std::nullopt, caller.actor());
  if (!cleared) co_return http::problem(ctx.request, cleared.error());
  co_return no_content(ctx.request);
}

// Items one completed session may buy at most (a typo of an order number is not a purchase).
constexpr std::int64_t kMaxConsumed = 1'000'000;

asio::awaitable<Response> end_session(const AdminDeps& s, RequestContext& ctx,
                                      const AdminCaller& caller) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  const json::value* status_field = body->if_contains("status");
  const json::value* consumed_field = body->if_contains("consumed");
  if (body->size() != 1u + (consumed_field ? 1 : 0) || !status_field || !status_field->is_string())
    co_return http::problem(ctx.request, Status::bad_request,
                            "the body must be {\"status\": \"completed\"|\"abandoned\"|"
                            "\"revoked\"}, with \"consumed\": n for a completed purchase");
  auto status = core::parse_session_end(status_field->get_string());
  if (!status)
    co_return http::problem(ctx.request, Status::bad_request,
                            "status must be \"completed\", \"abandoned\" or \"revoked\"");
  std::uint64_t consumed = 0;
  if (consumed_field) {
    if (!consumed_field->is_int64() || consumed_field->get_int64() < 1 ||
        consumed_field->get_int64() > kMaxConsumed)
      co_return http::problem(
          ctx.request, Status::bad_request,
          "consumed must be a whole number of items from 1 to " + std::to_string(kMaxConsumed));
    consumed = static_cast<std::uint64_t>(consumed_field->get_int64());
  }
  auto t =
      co_await s.store.end_session(std::string(ctx.param("room")), std::string(ctx.param("ticket")),
                                   *status, caller.actor(), consumed);
  if (!t) co_return http::problem(ctx.request, t.error());
  co_return json_ok(ctx.request, json::object{{"ticket", t->ticket},
                                              {"status", core::to_string(t->state.status)}});
}

asio::awaitable<Response> stats(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room_stats(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  json::object out = stats_json(*r, s.clock.now_s());
  if (r->inventory) out["inventory"] = inventory_json(*r->inventory);
  // Leave and come back: who is told, and what is still to send.
  if (r->view.settings.away_max_s > 0)
    out["notices"] = json::object{{"set", r->view.notices}, {"due", r->view.notices_due}};
  // Adaptive admission: its limit and what it steers by (this node's signals).
  if (const core::AdmissionPolicy& a = r->view.admission; a.mode == core::AdmissionMode::adaptive)
    out["adaptive"] = json::object{
        {"limit", r->active_limit ? json::value(*r->active_limit) : json::value(nullptr)},
        {"held", r->held},
        {"target_p95_ms", a.target_p95_ms.value_or(0)},
        {"max_error_ratio", a.error_ratio_limit()},
        {"signals", signals_json(s.store.health().report(room))}};
  co_return json_ok(ctx.request, out);
}

asio::awaitable<Response> admissions(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
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

asio::awaitable<Response> get_clock(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  co_return json_ok(ctx.request, json::object{{"now_ms", s.clock.now_ms()}});
}

// Moves the test clock in the driver's own steps, so minutes of admissions play out as they
// would in real time, only faster.
asio::awaitable<Response> advance_clock(const AdminDeps& s, RequestContext& ctx,
                                        const AdminCaller&) {
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
asio::awaitable<Response> rotate_keys(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
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

// Web Push's VAPID keys: a new one for new subscriptions; the retired ones stay for
// token::kVapidKeyRetentionS (7 days, the longest away_max_s), since each browser's subscription
// names the key it was made with. Published to the other nodes like the signing keys.
asio::awaitable<Response> rotate_push_keys(const AdminDeps& s, RequestContext& ctx,
                                           const AdminCaller&) {
  if (!s.push_keys)
    co_return http::problem(ctx.request, Status::conflict,
                            "this server sends no Web Push ([push] is not set up)");
  auto keys = s.push_keys->rotate(token::kVapidKeyRetentionS);
  if (!keys) co_return http::problem(ctx.request, keys.error());
  if (s.publish_keys)
    if (auto published = s.publish_keys(); !published)
      co_return http::problem(ctx.request,
                              core::Error{core::ErrorCode::unavailable,
                                          "the VAPID keys were rotated on this node but could not "
                                          "be published to the other nodes: " +
                                              published.error().detail,
                                          1});
  co_return json_ok(ctx.request, keys_json(*keys));
}

// Snapshots every room and drops the log records the snapshots replace (docs/operations.md).
asio::awaitable<Response> compact(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
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

asio::awaitable<Response> list_keys(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
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
  // Every path under /admin/v1 needs a caller (the key, an operator token or a dashboard
  // session), before routing: unknown paths and wrong methods answer 401 too, so nothing about the
  // admin API shows without one. Each route then checks the caller's role (bind).
  router.guard("/admin/v1",
               [&s](const http::Request& req,
                    const boost::asio::ip::address& peer) -> std::optional<Response> {
                 auto caller = identify_caller(s, req, peer);
                 if (!caller) return std::move(caller.error());
                 return std::nullopt;
               });
  auto add = [&](Method method, const std::string& path, AdminHandler f, OperatorRole role,
                 bool listing = false) {
    router.add(
        method, path,
        bind(s, f, role, std::string(http::beast_http::to_string(method)) + " " + path, listing));
  };
  const std::string base = "/admin/v1/rooms";
  add(Method::get, base, list_rooms, OperatorRole::viewer, true);
  add(Method::put, base + "/{room}", put_room, OperatorRole::operator_);
  add(Method::get, base + "/{room}", get_room, OperatorRole::viewer);
  add(Method::delete_, base + "/{room}", delete_room, OperatorRole::admin);
  add(Method::post, base + "/{room}/advance", advance, OperatorRole::operator_);
  add(Method::post, base + "/{room}/pause", pause_room, OperatorRole::operator_);
  add(Method::post, base + "/{room}/resume", resume_room, OperatorRole::operator_);
  add(Method::post, base + "/{room}/reset", reset, OperatorRole::admin);
  add(Method::put, base + "/{room}/message", put_message, OperatorRole::operator_);
  add(Method::delete_, base + "/{room}/message", delete_message, OperatorRole::operator_);
  add(Method::get, base + "/{room}/codes", list_codes, OperatorRole::operator_);
  add(Method::post, base + "/{room}/codes", create_code, OperatorRole::operator_);
  add(Method::delete_, base + "/{room}/codes/{id}", revoke_code, OperatorRole::operator_);
  add(Method::put, base + "/{room}/sessions/{ticket}", end_session, OperatorRole::operator_);
  add(Method::get, base + "/{room}/stats", stats, OperatorRole::viewer);
  add(Method::get, base + "/{room}/signals", get_signals, OperatorRole::viewer);
  add(Method::get, base + "/{room}/inventory", get_inventory, OperatorRole::viewer);
  add(Method::post, base + "/{room}/inventory", change_inventory, OperatorRole::operator_);
  add(Method::post, base + "/{room}/signals", post_signals, OperatorRole::operator_);
  add(Method::get, base + "/{room}/admissions", admissions, OperatorRole::viewer);
  add(Method::get, base + "/{room}/history", room_history, OperatorRole::viewer);
  if (s.manual_clock) {
    add(Method::get, "/admin/v1/testing/clock", get_clock, OperatorRole::admin);
    add(Method::post, "/admin/v1/testing/clock", advance_clock, OperatorRole::admin);
  }
  add(Method::post, "/admin/v1/compact", compact, OperatorRole::admin);
  add(Method::get, "/admin/v1/events", read_events, OperatorRole::viewer);
  add(Method::get, "/admin/v1/audit", read_audit, OperatorRole::viewer);
  add(Method::get, "/admin/v1/keys", list_keys, OperatorRole::admin);
  add(Method::post, "/admin/v1/keys/rotate", rotate_keys, OperatorRole::admin);
  add(Method::post, "/admin/v1/push/keys/rotate", rotate_push_keys, OperatorRole::admin);
  add(Method::get, "/admin/v1/tokens", list_tokens, OperatorRole::admin);
  add(Method::post, "/admin/v1/tokens", create_token, OperatorRole::admin);
  add(Method::delete_, "/admin/v1/tokens/{id}", revoke_token, OperatorRole::admin);
}

}  // namespace waitroom::api
