// Capacity admission: queue only when the site is full. Below total_active held places and
// new_per_minute admissions in the last minute, an arriving visitor goes straight in; above
// either, visitors wait and each step lets in what the two thresholds leave room for.
#include <algorithm>
#include <memory>

#include "core/admission/policies.hpp"

namespace waitroom::core {

namespace {

constexpr std::int64_t kNewPerMinuteWindowS = 60;

class CapacityPolicy final : public Admitter {
 public:
  explicit CapacityPolicy(const AdmissionPolicy& settings)
      : Admitter(settings),
        total_active_(settings.total_active.value_or(0)),
        new_per_minute_(settings.new_per_minute.value_or(0)) {}

  // Only with nobody waiting: a newcomer must not pass those already in line. A party needs room
  // for all of it.
  bool admits_on_arrival(std::int64_t now_s, std::uint64_t seats, RoomFacts& room) const override {
    return room.waiting() == 0 && window_open(now_s) && room_now(now_s, room) >= seats;
  }
  std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts& room) const override {
    return room_now(step.now_ms / 1000, room);
  }
  void took(std::uint64_t, RateBucket&) const override {}
  PaceHint pace(std::int64_t now_s) const override { return {!window_open(now_s), 0}; }
  std::optional<LineReason> holds_line(std::int64_t now_s, RoomFacts& room) const override {
    if (room_now(now_s, room) == 0) return LineReason::capacity;
    return std::nullopt;
  }

 private:
  std::uint64_t room_now(std::int64_t now_s, RoomFacts& room) const {
    const std::uint64_t recent = room.admitted_after(now_s - kNewPerMinuteWindowS);
    const std::uint64_t fresh =
        static_cast<std::uint64_t>(new_per_minute_) > recent ? new_per_minute_ - recent : 0;
    return std::min(places_left(total_active_, room.held()), fresh);
  }

  std::int64_t total_active_;
  std::int64_t new_per_minute_;
};

}  // namespace

AdmitterPtr make_capacity_policy(const AdmissionPolicy& settings) {
  return std::make_shared<CapacityPolicy>(settings);
}

}  // namespace waitroom::core
