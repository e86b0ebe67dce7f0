// Queueing = passthrough: nobody waits. It is a queueing method, not an admission mode, but it
// answers the same three questions, so it is an Admitter wrapped around the room's policy.
#include <memory>
#include <utility>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

class Passthrough final : public Admitter {
 public:
  Passthrough(AdmitterPtr inner, const AdmissionPolicy& settings)
      : Admitter(settings), inner_(std::move(inner)) {}

  // At once, even outside the policy's window: passthrough means no line at all.
  bool admits_on_arrival(std::int64_t, RoomFacts&) const override { return true; }
  // Everyone still waiting from before (a room switched to passthrough), with no pace and no
  // cap; the window does apply, as the room asks only inside it.
  std::uint64_t admits_at_step(const AdmissionStep&, RoomFacts&) const override {
    return kUnlimited;
  }
  // Nothing to take: a step with no pace leaves nobody waiting, and the room empties the bucket
  // whenever nobody waits.
  void took(std::uint64_t, RateBucket&) const override {}
  PaceHint pace(std::int64_t now_s) const override { return inner_->pace(now_s); }

 private:
  AdmitterPtr inner_;
};

}  // namespace

AdmitterPtr passthrough(AdmitterPtr inner, const AdmissionPolicy& settings) {
  return std::make_shared<Passthrough>(std::move(inner), settings);
}

}  // namespace waitroom::core
