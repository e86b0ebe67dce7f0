// Max-active admission: keep at most max_active places held (active sessions plus eligible
// tickets whose pass is not claimed yet); a session that ends lets the next visitor in.
#include <memory>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

class MaxActivePolicy final : public Admitter {
 public:
  explicit MaxActivePolicy(const AdmissionPolicy& settings)
      : Admitter(settings), max_active_(settings.max_active.value_or(0)) {}

  bool admits_on_arrival(std::int64_t, std::uint64_t, RoomFacts&) const override { return false; }
  // No pace, so owed turns need no room of their own: the cap alone decides.
  std::uint64_t admits_at_step(const AdmissionStep&, RoomFacts& room) const override {
    return places_left(max_active_, room.held());
  }
  void took(std::uint64_t, RateBucket&) const override {}
  PaceHint pace(std::int64_t now_s) const override { return {!window_open(now_s), 0}; }
  std::optional<LineReason> holds_line(std::int64_t, RoomFacts& room) const override {
    if (places_left(max_active_, room.held()) == 0) return LineReason::max_active;
    return std::nullopt;
  }

 private:
  std::int64_t max_active_;
};

}  // namespace

AdmitterPtr make_max_active_policy(const AdmissionPolicy& settings) {
  return std::make_shared<MaxActivePolicy>(settings);
}

}  // namespace waitroom::core
