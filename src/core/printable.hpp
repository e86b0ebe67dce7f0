#pragma once
// What the identifiers and URLs of a room's settings may be made of (client ids, key ids, URLs):
// printable ASCII without spaces, so they read the same in a log line, a header and a form.
#include <string_view>

namespace waitroom::core {

inline bool is_printable_ascii(std::string_view s) {
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace waitroom::core
