#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace waitroom::core {

// What a visitor's ticket is now. waiting/eligible come from the serving counter; the others from
// the ticket's session (the pass it was issued).
enum class TicketStatus : std::uint8_t {
  waiting,
  eligible,
  admitted,
  expired,
  completed,
  abandoned,
  revoked,
};

// A session is the life of a pass. `expired` is reached by time, the others by an admin call.
enum class SessionStatus : std::uint8_t { active, expired, completed, abandoned, revoked };

std::string_view to_string(TicketStatus status);
std::string_view to_string(SessionStatus status);
// Parses the statuses an operator may end a session with: completed, abandoned, revoked.
std::optional<SessionStatus> parse_session_end(std::string_view text);
TicketStatus ticket_status_of(SessionStatus status);

}  // namespace waitroom::core
