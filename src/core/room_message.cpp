#include "core/room_message.hpp"

namespace waitroom::core {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The code point starting at `s[i]` and its length in bytes, or 0 bytes when the UTF-8 there is
// invalid (a stray continuation byte, a truncated or overlong sequence, a surrogate, past
// U+10FFFF).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// C0 controls (but the newline), DEL and the C1 controls.
bool is_refused_control(char32_t cp) {
  return (cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp <= 0x9F);
}

}  // namespace

bool same_message(const RoomMessagePtr& a, const RoomMessagePtr& b) {
  if (a == b) return true;
  return a && b && *a == *b;
}

Result<std::string> message_text(std::string_view raw) {
  while (!raw.empty() && is_space(raw.front())) raw.remove_prefix(1);
  while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
  std::string text;
  text.reserve(raw.size());
  std::size_t chars = 0;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') {
      ++i;  // "\r\n" (a form's newline) is kept as "\n"
      continue;
    }
    char32_t cp = 0;
    const std::size_t n = decode_utf8(raw, i, cp);
    if (n == 0) return fail(ErrorCode::bad_request, "the message's text is not valid UTF-8");
    if (is_refused_control(cp))
      return fail(ErrorCode::bad_request,
                  "the message's text may not hold control characters other than a newline");
    text.append(raw.substr(i, n));
    i += n;
    ++chars;
  }
  if (chars == 0) return fail(ErrorCode::bad_request, "the message's text is empty");
  if (chars > kMaxMessageChars)
    return fail(ErrorCode::bad_request, "the message's text is longer than " +
                                            std::to_string(kMaxMessageChars) + " characters");
  return text;
}

}  // namespace waitroom::core
