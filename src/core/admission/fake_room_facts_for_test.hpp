#pragma once
// A room's facts as a policy test sets them, counting what the policy asked for.
#include <cstdint>
#include <optional>

#include "core/admission/admitter.hpp"

namespace waitroom::core::testing {

class FakeRoomFacts final : public RoomFacts {
 public:
  std::uint64_t waiting_count = 0;
  std::uint64_t held_count = 0;
  std::uint64_t recent_admissions = 0;  // answered for any since_s
  std::optional<std::uint64_t> limit;   // adaptive's controller
  double no_shows = 0;
  int held_asked = 0;

  std::uint64_t waiting() const override { return waiting_count; }
  std::uint64_t held() override {
    ++held_asked;
    return held_count;
  }
  std::uint64_t admitted_after(std::int64_t since_s) const override {
    asked_since_s_ = since_s;
    return recent_admissions;
  }
  std::optional<std::uint64_t> active_limit() const override { return limit; }
  double no_show_share() const override { return no_shows; }
  std::int64_t since_asked() const { return asked_since_s_; }

 private:
  mutable std::int64_t asked_since_s_ = -1;
};

inline AdmissionPolicy settings_for(AdmissionMode mode) {
  AdmissionPolicy a;
  a.mode = mode;
  return a;
}

}  // namespace waitroom::core::testing
