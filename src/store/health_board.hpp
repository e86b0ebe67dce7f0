#pragma once
// This node's view of each room's protected site (docs/admission.md, "Health signals"): what the
// built-in proxy measured of the site's requests (core/health_window.hpp) and what an operator's
// feeder posted (POST /admin/v1/rooms/{room}/signals, for sites behind nginx or Caddy). Adaptive
// admission's controller reads the two combined at each admission step. On the Redis store every
// node shares its part each second (shareable/heard), so the node that drives a room steers by
// the requests all nodes carried and by a post any of them took. Thread-safe: proxy connections,
// admin requests, the admission driver and the Redis store's subscriber share it.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/admission/health.hpp"
#include "core/clock.hpp"
#include "core/health_window.hpp"

namespace waitroom::store {

// Posted signals count for this long unless the post says otherwise: a feeder that stops is
// soon unknown, and unknown holds the controller still.
inline constexpr std::int64_t kDefaultSignalMaxAgeS = 10;
inline constexpr std::int64_t kMaxSignalMaxAgeS = 3600;
// Another node's share counts this long after it arrived (it sends one a second).
inline constexpr std::int64_t kSharedFreshMs = 2500;

struct PostedSignals {
  core::HealthReading reading;  // samples 0
  std::int64_t at_ms = 0;
  std::int64_t max_age_s = kDefaultSignalMaxAgeS;

  std::int64_t expires_ms() const { return at_ms + max_age_s * 1000; }
};

// What the controller sees for a room, and where it came from (GET .../signals).
struct HealthReport {
  core::HealthReading proxy;            // every node's proxy; unknown below kMinSamples requests
  std::optional<PostedSignals> posted;  // the latest post this node knows of, fresh or not
  bool posted_fresh = false;
  core::HealthReading combined;  // the worse of the fresh ones, field by field
  std::uint64_t nodes = 1;       // the nodes whose part counts (this one and those heard lately)
};

// One room's part of what a node shares: "HISTOGRAM FAILED POSTED" (POSTED: "-", or
// "P50,P95,ERROR_RATIO,MS_LEFT" with "-" for a value not given).
struct SharedHealth {
  std::string room;
  std::string text;
};

class HealthBoard {
 public:
  explicit HealthBoard(const core::Clock& clock) : clock_(clock) {}

  // A request the built-in proxy forwarded to the room's site.
  void observe(std::string_view room, std::int64_t latency_ms, bool failed);
  void post(std::string_view room, const core::HealthReading& reading, std::int64_t max_age_s);
  HealthReport report(std::string_view room) const;
  core::HealthReading reading(std::string_view room) const { return report(room).combined; }

  // This node's part for the others: the rooms it has requests or a fresh post for.
  std::vector<SharedHealth> shareable() const;
  // Another node's part for `room` (a malformed one is ignored).
  void heard(std::string_view node, std::string_view room, std::string_view text);

 private:
  struct Shared {
    core::HealthWindow::Summary requests;
    std::optional<PostedSignals> posted;
    std::int64_t heard_ms = 0;
  };
  struct Entry {
    core::HealthWindow proxy;
    std::optional<PostedSignals> posted;
    std::map<std::string, Shared, std::less<>> others;  // by node
  };
  // Looked up by the room's name as a string_view: the proxy's every request, with no copy.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };
  Entry& entry(std::string_view room);  // under mu_

  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> rooms_;
};

}  // namespace waitroom::store
