// Rate admission: rate_per_minute visitors, spread evenly over each second.
#include <algorithm>
#include <memory>
#include <utility>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

class RatePolicy final : public Admitter {
 public:
  explicit RatePolicy(const AdmissionPolicy& settings)
      : Admitter(settings), per_minute_(settings.rate_per_minute.value_or(0)) {}

  bool admits_on_arrival(std::int64_t, RoomFacts&) const override { return false; }

  // The bucket fills only while the policy may admit (the room asks only then), and holds at
  // most one second's share (at least one admission), so a line that was empty for a while is
  // not flooded when visitors come back.
  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts&) const override {
    RateBucket& bucket = step.bucket;
    if (bucket.at_ms > 0 && step.now_ms > bucket.at_ms) {
      const std::int64_t ceiling = std::max<std::int64_t>(kAdmissionUnits, per_minute_ * 1000);
      bucket.units = std::min(ceiling, bucket.units + per_minute_ * (step.now_ms - bucket.at_ms));
    }
    return static_cast<std::uint64_t>(bucket.units / kAdmissionUnits) + step.owed;
  }

  void took(std::uint64_t paced, RateBucket& bucket) const override {
    bucket.units = std::max<std::int64_t>(
        0, bucket.units - static_cast<std::int64_t>(paced) * kAdmissionUnits);
  }

  // Before a pace is observed, the configured rate stands in for it.
  PaceHint pace(std::int64_t now_s) const override {
    return {!window_open(now_s), static_cast<double>(per_minute_) / 60.0};
  }

 private:
  std::int64_t per_minute_;
};

}  // namespace

AdmitterPtr make_rate_policy(const AdmissionPolicy& settings) {
  AdmitterPtr rate = std::make_shared<RatePolicy>(settings);
  if (settings.max_active) return with_active_ceiling(std::move(rate), settings);
  return rate;
}

}  // namespace waitroom::core
