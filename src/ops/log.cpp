#include "ops/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

namespace waitroom::ops {

namespace {
// spdlog's stderr sink serialises lines from many threads; we format the JSON ourselves.
spdlog::logger& json_logger() {
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("waitroom",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                   spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::debug);
    l->flush_on(spdlog::level::debug);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}
}  // namespace

void log(LogLevel level, std::string_view msg, boost::json::object fields) {
  std::string line = "\"msg\":" + boost::json::serialize(boost::json::string(msg));
  for (const auto& [k, v] : fields)
    line += "," + boost::json::serialize(boost::json::string(k)) + ":" + boost::json::serialize(v);
  json_logger().log(to_spdlog(level), line);
}

}  // namespace waitroom::ops
