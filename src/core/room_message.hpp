#pragma once
// The operators' message to everyone waiting in a room ("the sale starts 10 minutes late"): plain
// text the room page shows in a banner, the status answers carry and the event streams push. It is
// the room's state, changed by an operation and logged like any other (engine/room_ops.hpp), and
// kept across a reset of the line: it is the operators' note, not the line's.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::core {

// At most this many characters (Unicode code points), after trimming.
inline constexpr std::size_t kMaxMessageChars = 500;

struct RoomMessage {
  std::string text;  // checked by message_text(): 1..kMaxMessageChars code points, no controls
  std::int64_t set_at_s = 0;

  bool operator==(const RoomMessage&) const = default;
};

// Set once and shared, never changed: a read hands the room's message on by copying the pointer
// (no allocation on the status poll), and a new message is a new object. Null: no message.
using RoomMessagePtr = std::shared_ptr<const RoomMessage>;

// Whether two reads of a room show the same message (both none, or equal).
bool same_message(const RoomMessagePtr& a, const RoomMessagePtr& b);

// The text an operator gave, as the room keeps it: surrounding whitespace trimmed and "\r\n"
// read as "\n". Refused (bad_request, nothing changes) when it is not UTF-8, holds a control
// character other than a newline, or is not 1 to kMaxMessageChars code points long.
Result<std::string> message_text(std::string_view raw);

}  // namespace waitroom::core
