#include "api/json_io.hpp"

#include <charconv>

#include "config/room_settings_codec.hpp"
#include "http/query.hpp"
#include "visitor/status_json.hpp"

namespace waitroom::api {

namespace json = boost::json;

using core::ErrorCode;
using core::fail;

core::Result<json::object> read_json_object(const http::Request& req) {
  const std::string& body = req.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return fail(ErrorCode::bad_request, "the body is not valid JSON: " + ec.message());
  if (!v.is_object()) return fail(ErrorCode::bad_request, "the body must be a JSON object");
  return std::move(v.as_object());
}

core::Result<std::optional<std::uint64_t>> read_uint(const json::object& body,
                                                     std::string_view field, std::uint64_t min,
                                                     std::uint64_t max) {
  const json::value* v = body.if_contains(field);
  if (!v) return std::optional<std::uint64_t>{};
  std::optional<std::uint64_t> n;
  if (v->is_uint64()) n = v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) n = static_cast<std::uint64_t>(v->get_int64());
  if (!n || *n < min || *n > max)
    return fail(ErrorCode::bad_request, std::string(field) + " must be an integer from " +
                                            std::to_string(min) + " to " + std::to_string(max));
  return n;
}

json::object room_admin_json(const store::RoomView& r) {
  json::object o = visitor::room_json(r);
  for (auto& [k, v] : config::room_settings_to_json(r.settings, config::Secrets::redact)) o[k] = v;
  if (r.settings.audience.empty()) o["audience"] = r.name;  // the effective default
  o["epoch"] = r.epoch;
  return o;
}

namespace {
// The stats' "waited": the admissions of the last 10 minutes (to the WaitLog's 10-second slot).
constexpr std::int64_t kWaitedWindowS = 600;
constexpr double kWaitedP50 = 0.50;
constexpr double kWaitedP95 = 0.95;

json::value seconds_json(const std::optional<std::int64_t>& s) {
  if (!s) return nullptr;
  return *s;
}
}  // namespace

json::object stats_json(const store::RoomStats& stats, std::int64_t now_s) {
  const store::RoomView& r = stats.view;
  const core::RoomCounters& c = r.counters;
  const core::WaitHistogram waited = stats.waits.last(now_s, kWaitedWindowS);
  json::value reason = nullptr;
  if (stats.line.stopped) reason = json::string(core::to_string(*stats.line.stopped));
  return json::object{
      {"room", r.name},
      {"epoch", r.epoch},
      {"queue_counter", c.queue_counter},
      {"serving", c.serving},
      {"waiting", c.waiting},
      {"active_sessions", c.active_sessions},
      {"passes_issued", c.passes_issued},
      {"completed", c.completed},
      {"abandoned", c.abandoned},
      {"revoked", c.revoked},
      {"expired", c.expired},
      {"eligible", c.eligible},
      {"admitted", c.admitted},
      {"tickets_expired", c.tickets_expired},
      // tickets_expired apart, and `expired` again under a plainer name.
      {"left_line", c.tickets_left},
      {"unclaimed", c.tickets_unclaimed},
      {"sessions_expired", c.expired},
      {"waited", json::object{{"window_s", kWaitedWindowS},
                              {"count", waited.count()},
                              {"p50_s", seconds_json(waited.percentile(kWaitedP50))},
                              {"p95_s", seconds_json(waited.percentile(kWaitedP95))}}},
      {"line", json::object{{"moving", stats.line.moving()}, {"reason", reason}}}};
}

http::Response json_ok(const http::Request& req, const json::value& body, http::Status status) {
  return http::json_response(req, status, json::serialize(body));
}

core::Result<std::uint64_t> query_uint(std::string_view query, std::string_view name,
                                       std::uint64_t fallback, std::uint64_t min,
                                       std::uint64_t max) {
  auto text = http::query_param(query, name);
  if (!text) return fallback;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc{} || end != text->data() + text->size() || n < min || n > max)
    return core::fail(core::ErrorCode::bad_request,
                      std::string(name) + " must be an integer from " + std::to_string(min) +
                          " to " + std::to_string(max));
  return n;
}

}  // namespace waitroom::api
