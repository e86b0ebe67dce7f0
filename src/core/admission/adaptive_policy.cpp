// Adaptive admission: the site's health steers it (docs/admission.md, "adaptive"). The room's
// controller (core/admission/adaptive_controller.hpp) finds a limit on the places held from the
// site's signals; this policy admits under that limit and the operator's max_active, paced at
// up to max_per_minute, and at min_per_minute at least while visitors wait, whatever the limit.
#include <algorithm>
#include <memory>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

// The pace's ceiling, as rate mode runs it (its bucket and per-second cap).
AdmissionPolicy as_rate(const AdmissionPolicy& settings) {
  AdmissionPolicy rate = settings;
  rate.mode = AdmissionMode::rate;
  rate.rate_per_minute = settings.max_per_minute;
  rate.max_active.reset();
  return rate;
}

class AdaptivePolicy final : public Admitter {
 public:
  explicit AdaptivePolicy(const AdmissionPolicy& settings)
      : Admitter(settings),
        pace_(make_rate_policy(as_rate(settings))),
        max_active_(settings.max_active),
        floor_per_minute_(settings.min_per_minute.value_or(0)) {}

  bool admits_on_arrival(std::int64_t, std::uint64_t, RoomFacts&) const override { return false; }

  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts& room) const override {
    // The floor's bucket fills like the pace's.
    RateBucket& bucket = step.bucket;
    if (floor_per_minute_ > 0)
      bucket.floor_units = filled(bucket.floor_units, floor_per_minute_, step);
    const std::uint64_t paced = pace_->admits_at_step(step, room);
    std::uint64_t n = paced;
    if (const std::optional<std::int64_t> cap = limit(room))
      n = std::min(n, places_left(*cap, room.held()));
    // The floor goes past the controller's limit, never past the operator's max_active.
    const auto floor = static_cast<std::uint64_t>(bucket.floor_units / kAdmissionUnits);
    if (floor > n) {
      n = std::min(paced, floor);
      if (max_active_) n = std::min(n, places_left(*max_active_, room.held()));
    }
    return n;
  }
  void took(std::uint64_t paced, RateBucket& bucket) const override {
    pace_->took(paced, bucket);
    bucket.floor_units = std::max<std::int64_t>(
        0, bucket.floor_units - static_cast<std::int64_t>(paced) * kAdmissionUnits);
  }
  // The ceiling stands in before a pace is observed; the places' limit shows in the observed one.
  PaceHint pace(std::int64_t now_s) const override { return pace_->pace(now_s); }
  std::optional<LineReason> holds_line(std::int64_t, RoomFacts& room) const override {
    if (max_active_ && places_left(*max_active_, room.held()) == 0) return LineReason::max_active;
    if (const std::optional<std::int64_t> cap = limit(room);
        cap && places_left(*cap, room.held()) == 0 && floor_per_minute_ == 0)
      return LineReason::site_health;
    return std::nullopt;
  }

 private:
  // The controller's limit under the operator's max_active (none: neither is set).
  std::optional<std::int64_t> limit(const RoomFacts& room) const {
    std::optional<std::int64_t> cap = max_active_;
    if (const std::optional<std::uint64_t> found = room.active_limit())
      cap = std::min<std::int64_t>(cap.value_or(kMaxActiveCap), static_cast<std::int64_t>(*found));
    return cap;
  }

  AdmitterPtr pace_;
  std::optional<std::int64_t> max_active_;
  std::int64_t floor_per_minute_;
};

}  // namespace

AdmitterPtr make_adaptive_policy(const AdmissionPolicy& settings) {
  return std::make_shared<AdaptivePolicy>(settings);
}

}  // namespace waitroom::core
