#pragma once
// What the room tests of core/ share: a start time, the driver's step and a rate policy.
#include <cstdint>

#include "core/room_settings.hpp"

namespace waitroom::testing {

inline constexpr std::int64_t kStartMs = 1'700'000'000'000;
inline constexpr std::int64_t kStepMs = 100;  // the admission driver's step

inline core::AdmissionPolicy rate(std::int64_t per_minute) {
  core::AdmissionPolicy a;
  a.mode = core::AdmissionMode::rate;
  a.rate_per_minute = per_minute;
  return a;
}

}  // namespace waitroom::testing
