#include "core/ticket_status.hpp"

#include <iterator>

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

namespace {
constexpr TicketStatus kSessionCodes[] = {TicketStatus::admitted, TicketStatus::expired,
                                          TicketStatus::completed, TicketStatus::abandoned,
                                          TicketStatus::revoked};
}  // namespace

std::uint8_t session_status_code(TicketStatus status) {
  for (std::uint8_t i = 0; i < std::size(kSessionCodes); ++i)
    if (kSessionCodes[i] == status) return i;
  return 1;  // waiting/eligible have no session; never logged as one
}

std::optional<TicketStatus> session_status_from_code(std::uint8_t code) {
  if (code >= std::size(kSessionCodes)) return std::nullopt;
  return kSessionCodes[code];
}

std::optional<TicketStatus> parse_session_end(std::string_view text) {
  if (text == "completed") return TicketStatus::completed;
  if (text == "abandoned") return TicketStatus::abandoned;
  if (text == "revoked") return TicketStatus::revoked;
  return std::nullopt;
}

}  // namespace waitroom::core
