#include "core/health_window.hpp"

#include <algorithm>

namespace waitroom::core {

void HealthWindow::add(std::int64_t now_s, std::int64_t latency_ms, bool failed) {
  Second& s = seconds_[static_cast<std::size_t>(now_s % kSpanS)];
  if (s.at_s != now_s) s = Second{now_s, 0, {}};
  s.latency_ms.add(std::max<std::int64_t>(0, latency_ms));
  if (failed) ++s.failed;
}

HealthReading HealthWindow::reading(std::int64_t now_s) const {
  WaitHistogram merged;
  std::uint64_t failed = 0;
  for (const Second& s : seconds_)
    if (s.at_s > now_s - kSpanS && s.at_s <= now_s) {
      merged.merge(s.latency_ms);
      failed += s.failed;
    }
  HealthReading out;
  out.samples = merged.count();
  if (out.samples < kMinSamples) return out;
  out.p50_ms = static_cast<double>(*merged.percentile(0.5));
  out.p95_ms = static_cast<double>(*merged.percentile(0.95));
  out.error_ratio = static_cast<double>(failed) / static_cast<double>(out.samples);
  return out;
}

}  // namespace waitroom::core
