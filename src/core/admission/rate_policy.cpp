// Rate admission: rate_per_minute visitors, spread evenly over each second.
//
// Two limits, both needed: the bucket keeps the pace over time (what a late step missed is made
// up afterwards, so totals are right), and the calendar-second cap keeps any one second at its
// share plus one (docs/fairness.md), however late a step runs. The cap is above the average
// share, so a backlog the bucket holds drains a little every second.
#include <algorithm>
#include <memory>
#include <utility>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

class RatePolicy final : public Admitter {
 public:
  explicit RatePolicy(const AdmissionPolicy& settings)
      : Admitter(settings),
        per_minute_(settings.rate_per_minute.value_or(0)),
        compensate_(settings.compensate_no_shows) {}

  bool admits_on_arrival(std::int64_t, std::uint64_t, RoomFacts&) const override { return false; }

  // The bucket fills only while the policy may admit (the room asks only then), and holds at
  // most two seconds' share (at least one admission): a driver that stalls for longer does not
  // make up the rest. One second's share piles up behind a single late step; the second one is
  // room for what the cap holds back while that drains. (A line that was empty is not flooded
  // when visitors come back: the room empties the bucket while nobody waits.) The room's own
  // admissions of this calendar second are counted (not a counter of ours), so the cap holds across
  // a restart or a change of driver.
  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts& room) const override {
    RateBucket& bucket = step.bucket;
    const auto max_party = static_cast<std::int64_t>(step.max_party);
    const std::int64_t per_minute = paced_per_minute(room);
    bucket.units = filled(bucket.units, per_minute, step);
    const auto in_bucket = static_cast<std::uint64_t>(bucket.units / kAdmissionUnits);
    if (in_bucket == 0) return step.owed;
    const std::int64_t now_s = step.now_ms / 1000;
    const std::uint64_t this_second = room.admitted_after(now_s - 1);
    // A calendar second's share plus one; a party fits in a second.
    const std::int64_t cap = std::max(per_minute / 60 + 1, max_party);
    return std::min(in_bucket, places_left(cap, this_second)) + step.owed;
  }

  void took(std::uint64_t paced, RateBucket& bucket) const override {
    bucket.units = std::max<std::int64_t>(
        0, bucket.units - static_cast<std::int64_t>(paced) * kAdmissionUnits);
  }

  // Before a pace is observed, the configured rate stands in for it.
  PaceHint pace(std::int64_t now_s) const override {
    return {!window_open(now_s), static_cast<double>(per_minute_) / 60.0};
  }
  // A rate is never held: between two admissions it is only pacing.
  std::optional<LineReason> holds_line(std::int64_t, RoomFacts&) const override {
    return std::nullopt;
  }

 private:
  // The setting, raised by the no-show share when it is compensated: turns that go unclaimed are
  // given again at once rather than after their claim time runs out.
  std::int64_t paced_per_minute(const RoomFacts& room) const {
    if (!compensate_) return per_minute_;
    const double share = std::clamp(room.no_show_share(), 0.0, kMaxNoShowShare);
    return static_cast<std::int64_t>(static_cast<double>(per_minute_) / (1.0 - share));
  }

  std::int64_t per_minute_;
  bool compensate_;
};

}  // namespace

AdmitterPtr make_rate_policy(const AdmissionPolicy& settings) {
  AdmitterPtr rate = std::make_shared<RatePolicy>(settings);
  if (settings.max_active) return with_active_ceiling(std::move(rate), settings);
  return rate;
}

}  // namespace waitroom::core
