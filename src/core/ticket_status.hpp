#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace waitroom::core {

// What a visitor's ticket is now: the one type for a ticket's status, in answers, events and logs.
// waiting/eligible come from the serving counter; the others are the ticket's session (the life of
// the pass it was issued): `admitted` while the session is active, `expired` once it ran out, and
// completed, abandoned or revoked when an operator ended it.
enum class TicketStatus : std::uint8_t {
  waiting,
  eligible,
  admitted,
  expired,
  completed,
  abandoned,
  revoked,
};

std::string_view to_string(TicketStatus status);
// Whether the ticket still holds its place: waiting, eligible or admitted (not over).
constexpr bool is_live(TicketStatus status) {
  return status == TicketStatus::waiting || status == TicketStatus::eligible ||
         status == TicketStatus::admitted;
}
// Parses the statuses an operator may end a session with: completed, abandoned, revoked.
std::optional<TicketStatus> parse_session_end(std::string_view text);
// A session's status as one byte of a log record, and back: the numbering the records have always
// used (active, expired, completed, abandoned, revoked), kept so written logs read the same.
std::uint8_t session_status_code(TicketStatus status);
std::optional<TicketStatus> session_status_from_code(std::uint8_t code);

}  // namespace waitroom::core
