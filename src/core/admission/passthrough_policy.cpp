// Queueing = passthrough: nobody waits. It is a queueing method, not an admission mode, but it
// answers the same three questions, so it is an Admitter wrapped around the room's policy.
#include <memory>
#include <utility>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

// The inner policy's answer is overruled, so it is asked with facts that cost nothing to give
// (no walk over the last minute's admissions on every step of a busy passthrough room).
class NoFacts final : public RoomFacts {
 public:
  std::uint64_t waiting() const override { return 0; }
  std::uint64_t held() override { return 0; }
  std::uint64_t admitted_after(std::int64_t) const override { return 0; }
};

class Passthrough final : public Admitter {
 public:
  Passthrough(AdmitterPtr inner, const AdmissionPolicy& settings)
      : Admitter(settings), inner_(std::move(inner)) {}

  // At once, even outside the policy's window: passthrough means no line at all.
  bool admits_on_arrival(std::int64_t, std::uint64_t, RoomFacts&) const override { return true; }
  // Everyone still waiting from before (a room switched to passthrough), with no pace and no
  // cap; the window does apply, as the room asks only inside it. The inner policy still takes its
  // step and is told what was admitted, only its answer is overruled: its rate bucket fills and
  // drains as it always did, so switching back to the policy finds the bucket where it was.
  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts&) const override {
    NoFacts none;
    inner_->admits_at_step(step, none);
    return kUnlimited;
  }
  void took(std::uint64_t paced, RateBucket& bucket) const override { inner_->took(paced, bucket); }
  PaceHint pace(std::int64_t now_s) const override { return inner_->pace(now_s); }
  // Everyone waiting goes in at the next step: the inner policy's caps do not apply.
  std::optional<LineReason> holds_line(std::int64_t, RoomFacts&) const override {
    return std::nullopt;
  }

 private:
  AdmitterPtr inner_;
};

}  // namespace

AdmitterPtr passthrough(AdmitterPtr inner, const AdmissionPolicy& settings) {
  return std::make_shared<Passthrough>(std::move(inner), settings);
}

}  // namespace waitroom::core
