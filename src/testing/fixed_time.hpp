#pragma once
// A fixed "now" (Unix seconds) for tests of tokens and passes, so their expiries are exact.
#include <cstdint>

namespace waitroom::testing {

inline constexpr std::int64_t kNow = 1'700'000'000;

}  // namespace waitroom::testing
