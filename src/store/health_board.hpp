#pragma once
// This node's view of each room's protected site (docs/admission.md, "Health signals"): what the
// built-in proxy measured of the site's requests (core/health_window.hpp) and what an operator's
// feeder posted (POST /admin/v1/rooms/{room}/signals, for sites behind nginx or Caddy). Adaptive
// admission's controller reads the two combined at each admission step. Thread-safe: proxy
// connections, admin requests and the admission driver share it.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/admission/health.hpp"
#include "core/clock.hpp"
#include "core/health_window.hpp"

namespace waitroom::store {

// Posted signals count for this long unless the post says otherwise: a feeder that stops is
// soon unknown, and unknown holds the controller still.
inline constexpr std::int64_t kDefaultSignalMaxAgeS = 10;
inline constexpr std::int64_t kMaxSignalMaxAgeS = 3600;

struct PostedSignals {
  core::HealthReading reading;  // samples 0
  std::int64_t at_ms = 0;
  std::int64_t max_age_s = kDefaultSignalMaxAgeS;
};

// What the controller sees for a room, and where it came from (GET .../signals).
struct HealthReport {
  core::HealthReading proxy;            // unknown without kMinSamples requests in the window
  std::optional<PostedSignals> posted;  // the latest post, fresh or not
  bool posted_fresh = false;
  core::HealthReading combined;  // the worse of the fresh ones, field by field
};

class HealthBoard {
 public:
  explicit HealthBoard(const core::Clock& clock) : clock_(clock) {}

  // A request the built-in proxy forwarded to the room's site.
  void observe(std::string_view room, std::int64_t latency_ms, bool failed);
  void post(std::string_view room, const core::HealthReading& reading, std::int64_t max_age_s);
  HealthReport report(std::string_view room) const;
  core::HealthReading reading(std::string_view room) const { return report(room).combined; }

 private:
  struct Entry {
    core::HealthWindow proxy;
    std::optional<PostedSignals> posted;
  };
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> rooms_;
};

}  // namespace waitroom::store
