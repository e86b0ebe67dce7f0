#pragma once
// Slows down guessing the admin key through the dashboard's sign-in form: each client address
// may fail kMaxFailures times per window, then waits for the window to end. Behind a reverse
// proxy every client shares the proxy's address, so a guesser can lock the form for everyone
// for a minute at most; the bearer API is not affected (docs/dashboard.md).
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace waitroom::web::dashboard {

class SignInThrottle {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr std::int64_t kWindowS = 60;
  static constexpr std::size_t kMaxAddresses = 10'000;  // bounds the memory a spray can take

  explicit SignInThrottle(const core::Clock& clock) : clock_(clock) {}

  // Seconds before `address` may try again; 0: it may try now.
  std::int64_t retry_after_s(const std::string& address);
  void record_failure(const std::string& address);
  void record_success(const std::string& address);

 private:
  struct Window {
    std::int64_t start_s = 0;
    int failures = 0;
  };
  const core::Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace waitroom::web::dashboard
