// How policies combine: a paced policy under a cap on held places (rate with max_active). The
// inner policy decides the pace and the estimate; the ceiling only ever lowers a step.
#include <algorithm>
#include <memory>
#include <utility>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

class ActiveCeiling final : public Admitter {
 public:
  ActiveCeiling(AdmitterPtr inner, const AdmissionPolicy& settings)
      : Admitter(settings),
        inner_(std::move(inner)),
        max_active_(settings.max_active.value_or(0)) {}

  bool admits_on_arrival(std::int64_t now_s, std::uint64_t seats, RoomFacts& room) const override {
    return inner_->admits_on_arrival(now_s, seats, room);
  }
  // The inner policy first: its bucket fills at every step, whether or not the cap is reached.
  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts& room) const override {
    const std::uint64_t paced = inner_->admits_at_step(step, room);
    return std::min(paced, places_left(max_active_, room.held()));
  }
  void took(std::uint64_t paced, RateBucket& bucket) const override { inner_->took(paced, bucket); }
  PaceHint pace(std::int64_t now_s) const override { return inner_->pace(now_s); }
  std::optional<LineReason> holds_line(std::int64_t now_s, RoomFacts& room) const override {
    if (auto held = inner_->holds_line(now_s, room)) return held;
    if (places_left(max_active_, room.held()) == 0) return LineReason::max_active;
    return std::nullopt;
  }

 private:
  AdmitterPtr inner_;
  std::int64_t max_active_;
};

}  // namespace

AdmitterPtr with_active_ceiling(AdmitterPtr inner, const AdmissionPolicy& settings) {
  return std::make_shared<ActiveCeiling>(std::move(inner), settings);
}

}  // namespace waitroom::core
