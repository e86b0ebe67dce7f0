#include "core/ticket_status.hpp"

namespace waitroom::core {

std::string_view to_string(TicketStatus status) {
  switch (status) {
    case TicketStatus::waiting:
      return "waiting";
    case TicketStatus::eligible:
      return "eligible";
    case TicketStatus::admitted:
      return "admitted";
    case TicketStatus::expired:
      return "expired";
    case TicketStatus::completed:
      return "completed";
    case TicketStatus::abandoned:
      return "abandoned";
    case TicketStatus::revoked:
      return "revoked";
  }
  return "unknown";
}

std::string_view to_string(SessionStatus status) { return to_string(ticket_status_of(status)); }

TicketStatus ticket_status_of(SessionStatus status) {
  switch (status) {
    case SessionStatus::active:
      return TicketStatus::admitted;
    case SessionStatus::expired:
      return TicketStatus::expired;
    case SessionStatus::completed:
      return TicketStatus::completed;
    case SessionStatus::abandoned:
      return TicketStatus::abandoned;
    case SessionStatus::revoked:
      return TicketStatus::revoked;
  }
  return TicketStatus::expired;
}

std::optional<SessionStatus> parse_session_end(std::string_view text) {
  if (text == "completed") return SessionStatus::completed;
  if (text == "abandoned") return SessionStatus::abandoned;
  if (text == "revoked") return SessionStatus::revoked;
  return std::nullopt;
}

}  // namespace waitroom::core
