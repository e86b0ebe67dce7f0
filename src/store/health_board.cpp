#include "store/health_board.hpp"

#include <algorithm>

namespace waitroom::store {

namespace {

// The worse of two values (a missing one is no better or worse than the other).
std::optional<double> worse(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

}  // namespace

void HealthBoard::observe(std::string_view room, std::int64_t latency_ms, bool failed) {
  const std::int64_t now_s = clock_.now_s();
  std::lock_guard lock(mu_);
  auto it = rooms_.find(std::string(room));
  if (it == rooms_.end()) it = rooms_.emplace(std::string(room), Entry{}).first;
  it->second.proxy.add(now_s, latency_ms, failed);
}

void HealthBoard::post(std::string_view room, const core::HealthReading& reading,
                       std::int64_t max_age_s) {
  PostedSignals posted{reading, clock_.now_ms(), max_age_s};
  posted.reading.samples = 0;
  std::lock_guard lock(mu_);
  rooms_[std::string(room)].posted = posted;
}

HealthReport HealthBoard::report(std::string_view room) const {
  const std::int64_t now_ms = clock_.now_ms();
  HealthReport out;
  {
    std::lock_guard lock(mu_);
    auto it = rooms_.find(std::string(room));
    if (it == rooms_.end()) return out;
    out.proxy = it->second.proxy.reading(now_ms / 1000);
    out.posted = it->second.posted;
  }
  out.combined = out.proxy;
  out.posted_fresh = out.posted && now_ms - out.posted->at_ms <= out.posted->max_age_s * 1000;
  if (out.posted_fresh) {
    const core::HealthReading& p = out.posted->reading;
    out.combined.p50_ms = worse(out.combined.p50_ms, p.p50_ms);
    out.combined.p95_ms = worse(out.combined.p95_ms, p.p95_ms);
    out.combined.error_ratio = worse(out.combined.error_ratio, p.error_ratio);
  }
  return out;
}

}  // namespace waitroom::store
