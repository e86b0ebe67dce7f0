#pragma once
// The protected site's requests of the last few seconds as the built-in proxy saw them: how long
// each took and whether it failed (a 5xx answer, a refused or broken connection, a timeout). Its
// reading is the latency's p50 and p95 and the failed share over the window, in whole seconds of
// the server's clock (a test clock moves it too). Single-threaded: store/health_board.hpp locks.
#include <array>
#include <cstdint>

#include "core/admission/health.hpp"
#include "core/wait_histogram.hpp"

namespace waitroom::core {

class HealthWindow {
 public:
  // The reading covers the current second and the ones before it, this many in all.
  static constexpr std::int64_t kSpanS = 5;
  // Fewer requests than this in the window say nothing: the reading is unknown.
  static constexpr std::uint64_t kMinSamples = 10;

  void add(std::int64_t now_s, std::int64_t latency_ms, bool failed);
  HealthReading reading(std::int64_t now_s) const;

 private:
  struct Second {
    std::int64_t at_s = -1;
    std::uint64_t failed = 0;
    WaitHistogram latency_ms;  // a histogram of any non-negative integer: milliseconds here
  };
  std::array<Second, kSpanS> seconds_;
};

}  // namespace waitroom::core
