#pragma once
// RFC 3339 timestamps, as room schedules are written in settings ("2026-12-01T10:00:00Z").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::core {

// Unix seconds of "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; fractions are dropped.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);
// "YYYY-MM-DDTHH:MM:SSZ" in UTC.
std::string format_rfc3339(std::int64_t unix_s);

}  // namespace waitroom::core
