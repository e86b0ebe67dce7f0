#include "api/event_stream_format.hpp"

#include <fmt/format.h>

#include <charconv>
#include <tuple>

namespace waitroom::api {

std::string event_stream_head(unsigned http_version) {
  // No Content-Length and no chunking: the body runs until the server closes the connection.
  // X-Accel-Buffering: no tells nginx not to hold the messages back.
  return fmt::format(
      "HTTP/1.{} 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n",
      http_version == 10 ? 0 : 1);
}

void append_retry(std::string& out) { out += fmt::format("retry: {}\n\n", kEventRetryMs); }

namespace {
void append_event(std::string& out, std::uint64_t id, std::string_view type,
                  std::string_view json) {
  constexpr std::size_t kFraming = 64;               // "id: …\nevent: status\ndata: " and "\n\n"
  out.reserve(out.size() + json.size() + kFraming);  // one allocation, not a doubling series
  out += "id: ";
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, id);
  (void)ec;
  out.append(digits, end);
  out += "\nevent: ";
  out += type;
  out += "\ndata: ";
  out += json;
  out += "\n\n";
}
}  // namespace

void append_status_event(std::string& out, std::uint64_t id, std::string_view json) {
  append_event(out, id, "status", json);
}

void append_message_event(std::string& out, std::uint64_t id, std::string_view json) {
  append_event(out, id, "message", json);
}

void append_heartbeat(std::string& out) { out += ": heartbeat\n\n"; }

std::optional<std::uint64_t> parse_last_event_id(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
  if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  return id;
}

bool status_changed(const core::TicketState& a, const core::TicketState& b) {
  auto eta_of = [](const core::TicketState& s) {
    return s.eta ? std::tuple{s.eta->p50_s, s.eta->p90_s, s.eta->configured_pace}
                 : std::tuple<std::int64_t, std::int64_t, bool>{-1, -1, false};
  };
  return a.position != b.position || a.status != b.status || a.ahead != b.ahead ||
         a.serving != b.serving || eta_of(a) != eta_of(b) || a.admitted_at_s != b.admitted_at_s ||
         a.drawing != b.drawing || a.waitlist_position != b.waitlist_position ||
         a.sold_out != b.sold_out || a.notice != b.notice;
}

bool is_final(core::TicketStatus status) {
  using core::TicketStatus;
  return status == TicketStatus::expired || status == TicketStatus::completed ||
         status == TicketStatus::abandoned || status == TicketStatus::revoked;
}

}  // namespace waitroom::api
