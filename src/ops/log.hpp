#pragma once
// Structured logs: one JSON object per line on stderr, {"ts","level","msg",...fields}.
// Secrets (the admin key, passes) are never passed in.
#include <boost/json/object.hpp>
#include <string_view>

namespace waitroom::ops {

enum class LogLevel { debug, info, warn, error };

void log(LogLevel level, std::string_view msg, boost::json::object fields = {});
inline void log_info(std::string_view msg, boost::json::object fields = {}) {
  log(LogLevel::info, msg, std::move(fields));
}
inline void log_warn(std::string_view msg, boost::json::object fields = {}) {
  log(LogLevel::warn, msg, std::move(fields));
}
inline void log_error(std::string_view msg, boost::json::object fields = {}) {
  log(LogLevel::error, msg, std::move(fields));
}

}  // namespace waitroom::ops
