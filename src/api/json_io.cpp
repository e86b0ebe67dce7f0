#include "api/json_io.hpp"

#include <fmt/format.h>

#include "config/room_settings_codec.hpp"
#include "core/rfc3339.hpp"

namespace waitroom::api {

namespace json = boost::json;

namespace {
// What the estimate stands on (docs/openapi.yaml, Eta.basis).
const char* eta_basis(const core::Eta& eta) {
  return eta.configured_pace ? "configured" : "observed";
}
}  // namespace

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

// Written with fmt rather than a json::object: this is the body of every status poll. Room names
// ([A-Za-z0-9_-]) and ticket ids (hex and '-') are validated before they get here and never
// need escaping.
std::string ticket_json(const store::TicketView& t, bool full) {
  return ticket_json(t.ticket, t.room, t.state, full);
}

std::string ticket_json(std::string_view ticket, std::string_view room,
                        const core::TicketState& state, bool full) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"ticket":"{}","room":"{}","position":{},"status":"{}","ahead":)", ticket,
                 room, state.position, core::to_string(state.status));
  if (state.ahead)
    fmt::format_to(it, "{}", *state.ahead);
  else
    fmt::format_to(it, "null");
  fmt::format_to(it, R"(,"serving":{},"eta":)", state.serving);
  if (state.eta)
    fmt::format_to(it, R"({{"p50_s":{},"p90_s":{},"basis":"{}"}})", state.eta->p50_s,
                   state.eta->p90_s, eta_basis(*state.eta));
  else
    fmt::format_to(it, "null");
  if (full) {
    fmt::format_to(it, R"(,"queue_length":{},"entry_time":{},"admitted_at":)", state.queue_length,
                   state.entry_time_s);
    if (state.admitted_at_s)
      fmt::format_to(it, "{}", *state.admitted_at_s);
    else
      fmt::format_to(it, "null");
  }
  out.push_back('}');
  return fmt::to_string(out);
}

json::value eta_json(const std::optional<core::Eta>& eta) {
  if (!eta) return nullptr;
  return json::object{{"p50_s", eta->p50_s}, {"p90_s", eta->p90_s}, {"basis", eta_basis(*eta)}};
}

json::value event_json(const std::optional<core::EventStatus>& e) {
  if (!e) return nullptr;
  auto time_or_null = [](const std::optional<std::int64_t>& t) {
    return t ? json::value(core::format_rfc3339(*t)) : json::value(nullptr);
  };
  return json::object{
      {"phase", e->phase},
      {"prequeue_start", time_or_null(e->event.prequeue_start_s)},
      {"start", core::format_rfc3339(e->event.start_s)},
      {"end", time_or_null(e->event.end_s)},
      {"shuffled_from", e->shuffled_from ? json::value(*e->shuffled_from) : json::value(nullptr)}};
}

json::object draw_json(const core::DrawInfo& d) {
  auto opt = [](const auto& v) { return v ? json::value(*v) : json::value(nullptr); };
  return json::object{
      {"event_start", core::format_rfc3339(d.event_start_s)},
      {"opened_at", d.opened_at_s},
      {"commitment", d.commitment},
      {"seed", opt(d.seed)},
      {"started_at", opt(d.started_at_s)},
      {"first_position", d.first_position},
      {"last_position", d.started_at_s ? json::value(d.last_position) : json::value(nullptr)},
      {"shuffled_first", d.started_at_s ? json::value(d.shuffled_first) : json::value(nullptr)}};
}

json::object room_json(const store::RoomView& r) {
  std::string status(core::to_string(r.settings.state));
  if (status == "open" && r.event && r.event->phase == "prequeue") status = "prequeue";
  return json::object{{"room", r.name},
                      {"status", status},
                      {"queueing", core::to_string(r.queueing)},
                      {"mode", core::to_string(r.admission.mode)},
                      {"event", event_json(r.event)},
                      {"serving", r.counters.serving},
                      {"queue_length", r.counters.queue_counter},
                      {"waiting", r.counters.waiting},
                      {"active_sessions", r.counters.active_sessions},
                      {"eta", eta_json(r.eta)}};
}

json::object room_admin_json(const store::RoomView& r) {
  json::object o = room_json(r);
  for (auto& [k, v] : config::room_settings_to_json(r.settings, config::Secrets::redact)) o[k] = v;
  if (r.settings.audience.empty()) o["audience"] = r.name;  // the effective default
  o["epoch"] = r.epoch;
  return o;
}

json::object stats_json(const store::RoomView& r) {
  const core::RoomCounters& c = r.counters;
  return json::object{{"room", r.name},
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
                      {"tickets_expired", c.tickets_expired}};
}

http::Response json_ok(const http::Request& req, const json::value& body, http::Status status) {
  return http::json_response(req, status, json::serialize(body));
}

}  // namespace waitroom::api
