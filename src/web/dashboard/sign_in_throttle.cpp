#include "web/dashboard/sign_in_throttle.hpp"

#include <algorithm>

namespace waitroom::web::dashboard {

std::int64_t SignInThrottle::retry_after_s(const std::string& address) {
  const std::int64_t now = clock_.now_s();
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it == windows_.end() || now - it->second.start_s >= kWindowS) return 0;
  if (it->second.failures < kMaxFailures) return 0;
  return std::max<std::int64_t>(1, it->second.start_s + kWindowS - now);
}

void SignInThrottle::record_failure(const std::string& address) {
  const std::int64_t now = clock_.now_s();
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxAddresses) {
      std::erase_if(windows_, [&](const auto& kv) { return now - kv.second.start_s >= kWindowS; });
      // Still full: forget the oldest window rather than grow without bound.
      if (windows_.size() >= kMaxAddresses)
        windows_.erase(std::min_element(
            windows_.begin(), windows_.end(),
            [](const auto& a, const auto& b) { return a.second.start_s < b.second.start_s; }));
    }
    it = windows_.emplace(address, Window{now, 0}).first;
  }
  if (now - it->second.start_s >= kWindowS) it->second = Window{now, 0};
  ++it->second.failures;
}

void SignInThrottle::record_success(const std::string& address) {
  std::lock_guard lock(mu_);
  windows_.erase(address);
}

}  // namespace waitroom::web::dashboard
