#pragma once
// What the protected site's health signals say now (docs/admission.md, "Health signals"): its
// latency and the share of its requests that failed, as the built-in proxy measured them over the
// last seconds or as an operator's feeder posted them. Adaptive admission steers by it.
#include <cstdint>
#include <optional>

namespace waitroom::core {

struct HealthReading {
  // Each is nullopt when no fresh signal says it: unknown, which holds the controller still.
  std::optional<double> p50_ms;
  std::optional<double> p95_ms;
  std::optional<double> error_ratio;  // 5xx answers and failed connections per request
  std::uint64_t samples = 0;          // the proxy's requests behind it (0: posted signals only)

  bool known() const { return p95_ms || error_ratio; }
  bool operator==(const HealthReading&) const = default;
};

}  // namespace waitroom::core
