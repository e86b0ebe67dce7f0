// Manual admission: the operator moves the line (admin advance, AWS increment_serving_counter).
#include <memory>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

class ManualPolicy final : public Admitter {
 public:
  using Admitter::Admitter;

  bool admits_on_arrival(std::int64_t, std::uint64_t, RoomFacts&) const override { return false; }
  // Turns owed to unclaimed passes are still given back (recycle_unclaimed), as the operator
  // already let those places go once.
  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts&) const override {
    return step.owed;
  }
  void took(std::uint64_t, RateBucket&) const override {}
  // An operator may advance at any time, window or not, so only the observed pace counts.
  PaceHint pace(std::int64_t) const override { return {}; }
  std::optional<LineReason> holds_line(std::int64_t, RoomFacts&) const override {
    return LineReason::manual;
  }
};

}  // namespace

AdmitterPtr make_manual_policy(const AdmissionPolicy& settings) {
  return std::make_shared<ManualPolicy>(settings);
}

}  // namespace waitroom::core
