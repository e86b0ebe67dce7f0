#pragma once
// Text taken from a token (or named by one) is put into refusal messages and log lines: quoted,
// cut short and printable ASCII only, so a forged token cannot write into the log.
#include <cstddef>
#include <string>
#include <string_view>

namespace waitroom::token {

inline std::string quoted(std::string_view text, std::size_t max_chars) {
  std::string out = "\"";
  for (const char c : text.substr(0, max_chars))
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  if (text.size() > max_chars) out += "...";
  out += '"';
  return out;
}

}  // namespace waitroom::token
