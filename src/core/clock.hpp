#pragma once
// Time enters the domain only through a Clock so that core logic is deterministic under test.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace waitroom::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch.
  virtual std::int64_t now_ms() const = 0;
  std::int64_t now_s() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  std::int64_t now_ms() const override { return now_ms_.load(); }
  void advance_ms(std::int64_t ms) { now_ms_ += ms; }
  void set_ms(std::int64_t ms) { now_ms_ = ms; }

 private:
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace waitroom::core
