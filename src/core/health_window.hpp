#pragma once
// The protected site's requests of the last few seconds as the built-in proxy saw them: how long
// each took and whether it failed (a 5xx answer, a refused or broken connection, a timeout). Its
// reading is the latency's p50 and p95 and the failed share over the window, in whole seconds of
// the server's clock (a test clock moves it too). Single-threaded: store/health_board.hpp locks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/admission/health.hpp"
#include "core/wait_histogram.hpp"

namespace waitroom::core {

class HealthWindow {
 public:
  // The reading covers the current second and the ones before it, this many in all.
  static constexpr std::int64_t kSpanS = 5;
  // Fewer requests than this in the window say nothing: the reading is unknown.
  static constexpr std::uint64_t kMinSamples = 10;

  // The window's requests, in a form that merges (other nodes' windows, on the Redis store).
  struct Summary {
    WaitHistogram latency_ms;  // a histogram of any non-negative integer: milliseconds here
    std::uint64_t failed = 0;

    void merge(const Summary& other) {
      latency_ms.merge(other.latency_ms);
      failed += other.failed;
    }
    // "HISTOGRAM FAILED", and back (nullopt: not one).
    std::string encode() const;
    static std::optional<Summary> decode(std::string_view text);
  };

  void add(std::int64_t now_s, std::int64_t latency_ms, bool failed);
  Summary summary(std::int64_t now_s) const;
  HealthReading reading(std::int64_t now_s) const { return read(summary(now_s)); }
  static HealthReading read(const Summary& summary);

 private:
  struct Second {
    std::int64_t at_s = -1;
    Summary requests;
  };
  std::array<Second, kSpanS> seconds_;
};

}  // namespace waitroom::core
