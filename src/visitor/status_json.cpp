#include "visitor/status_json.hpp"

#include <fmt/format.h>

#include "core/rfc3339.hpp"

namespace waitroom::visitor {

namespace json = boost::json;

namespace {

// What the estimate stands on (docs/openapi.yaml, Eta.basis).
const char* eta_basis(const core::Eta& eta) {
  return eta.configured_pace ? "configured" : "observed";
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

void put(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

// A JSON string of text that core::message_text() let through (UTF-8, no control characters but
// newlines); any other control character is escaped all the same.
void append_json_string(fmt::memory_buffer& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        put(out, "\\\"");
        break;
      case '\\':
        put(out, "\\\\");
        break;
      case '\n':
        put(out, "\\n");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        else
          out.push_back(c);
    }
  }
  out.push_back('"');
}

// {"text":…,"set_at":…}, or null.
void append_message(fmt::memory_buffer& out, const core::RoomMessage* message) {
  if (!message) {
    put(out, "null");
    return;
  }
  put(out, R"({"text":)");
  append_json_string(out, message->text);
  fmt::format_to(std::back_inserter(out), R"(,"set_at":"{}"}})",
                 core::format_rfc3339(message->set_at_s));
}

}  // namespace

// Written with fmt rather than a json::object: this is the body of every status poll. Room names
// ([A-Za-z0-9_-]) and ticket ids (hex and '-') are validated before they get here and never
// need escaping.
std::string ticket_json(const store::TicketView& t, bool full) {
  return ticket_json(t.ticket, t.room, t.state, full, t.message.get());
}

std::string ticket_json(std::string_view ticket, std::string_view room,
                        const core::TicketState& state, bool full,
                        const core::RoomMessage* message) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"ticket":"{}","room":"{}","position":{},"status":"{}","ahead":)", ticket,
                 room, state.position, core::to_string(state.status));
  if (state.ahead)
    fmt::format_to(it, "{}", *state.ahead);
  else
    fmt::format_to(it, "null");
  // Lane names are [A-Za-z0-9_-] (core/lanes.hpp): no escaping either.
  fmt::format_to(it, R"(,"lane":"{}","party_size":{},"serving":{},"eta":)",
                 state.lane_name.empty() ? core::kDefaultLaneName : state.lane_name,
                 state.party_size, state.serving);
  if (state.eta)
    fmt::format_to(it, R"({{"p50_s":{},"p90_s":{},"basis":"{}"}})", state.eta->p50_s,
                   state.eta->p90_s, eta_basis(*state.eta));
  else
    fmt::format_to(it, "null");
  // An entrant of a drawing: registered, won, or where on the waitlist.
  if (state.drawing == core::DrawStanding::waitlist)
    fmt::format_to(it, R"(,"drawing":{{"status":"waitlist","waitlist_position":{}}})",
                   state.waitlist_position);
  else if (state.drawing != core::DrawStanding::none)
    fmt::format_to(it, R"(,"drawing":{{"status":"{}"}})", core::to_string(state.drawing));
  // Waiting in a sold-out room: no turn comes unless items come back.
  if (state.sold_out) fmt::format_to(it, R"(,"sold_out":true)");
  // Leave and come back: how the visitor is told, how far each message has gone, and until when
  // the place is kept while they are away.
  if (const auto& n = state.notice) {
    fmt::format_to(it, R"(,"notify":{{"channel":"{}","turn_near":"{}","turn":"{}","away_until":)",
                   core::to_string(n->channel), core::to_string(n->near), core::to_string(n->turn));
    if (state.away_until_s > 0)
      fmt::format_to(it, R"("{}"}})", core::format_rfc3339(state.away_until_s));
    else
      put(out, "null}");
  }
  if (full) {
    fmt::format_to(it, R"(,"queue_length":{},"entry_time":{},"admitted_at":)", state.queue_length,
                   state.entry_time_s);
    if (state.admitted_at_s)
      fmt::format_to(it, "{}", *state.admitted_at_s);
    else
      fmt::format_to(it, "null");
    put(out, R"(,"message":)");
    append_message(out, message);
  }
  out.push_back('}');
  return fmt::to_string(out);
}

json::value message_json(const core::RoomMessagePtr& message) {
  if (!message) return nullptr;
  return json::object{{"text", message->text}, {"set_at", core::format_rfc3339(message->set_at_s)}};
}

std::string message_event_json(const core::RoomMessage* message) {
  fmt::memory_buffer out;
  if (message)
    append_message(out, message);
  else
    put(out, R"({"text":null})");
  return fmt::to_string(out);
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
      {"shuffled_first", d.started_at_s ? json::value(d.shuffled_first) : json::value(nullptr)},
      {"winners", opt(d.winners)}};
}

json::object room_json(const store::RoomView& r) {
  std::string status(core::to_string(r.settings.state));
  if (status == "open" && r.event && r.event->phase == "prequeue") status = "prequeue";
  if (r.sold_out) status = "sold_out";
  return json::object{{"room", r.name},
                      {"status", status},
                      {"queueing", core::to_string(r.queueing)},
                      {"mode", core::to_string(r.admission.mode)},
                      {"event", event_json(r.event)},
                      {"serving", r.counters.serving},
                      {"queue_length", r.counters.queue_counter},
                      {"waiting", r.counters.waiting},
                      {"active_sessions", r.counters.active_sessions},
                      {"eta", eta_json(r.eta)},
                      {"message", message_json(r.message)},
                      {"away_max_s", r.settings.away_max_s}};
}

}  // namespace waitroom::visitor
