#pragma once
// Reading parameters from a raw query string (the part of the target after '?').
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::http {

// The percent-decoded value ('+' read as a space, as forms send it) of the first parameter named
// `name`; nullopt when absent or when the query string is malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// Form decoding of one name or value: %XX escapes and '+' as a space; nullopt for a broken escape.
std::optional<std::string> form_decode(std::string_view text);
// Percent-encodes everything but RFC 3986's unreserved characters, for a query value.
std::string percent_encode(std::string_view value);

}  // namespace waitroom::http
