#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cstring>

namespace waitroom::http {

namespace {
constexpr std::int64_t kSweepIntervalUs = 10'000'000;
}

std::size_t RateLimiter::KeyHash::operator()(const core::IpBytes& k) const noexcept {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
  return static_cast<std::size_t>(h ^ (h >> 31));
}

// Drops the clients whose allowance is whole again: they behave as if never seen.
void RateLimiter::sweep(Shard& shard, std::int64_t now_us) {
  std::erase_if(shard.spent_until_us,
                [now_us](const auto& entry) { return entry.second <= now_us; });
  shard.next_sweep_us = now_us + kSweepIntervalUs;
}

std::int64_t RateLimiter::acquire(const core::IpBytes& key, std::int64_t limit,
                                  std::int64_t period_ms, std::int64_t now_ms) {
  if (limit <= 0 || period_ms <= 0) return 0;
  const std::int64_t now_us = now_ms * 1000;
  const std::int64_t interval_us = std::max<std::int64_t>(period_ms * 1000 / limit, 1);
  const std::int64_t burst_us = interval_us * (limit - 1);  // `limit` requests may come at once
  Shard& shard = shards_[KeyHash{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  if (now_us >= shard.next_sweep_us) sweep(shard, now_us);
  auto it = shard.spent_until_us.find(key);
  if (it == shard.spent_until_us.end()) {
    // Full even after the last sweep (at most 10 s ago): sweeping on every new client would
    // make a spray of addresses cost a whole table scan each.
    if (shard.spent_until_us.size() >= kMaxClientsPerShard) {
      overflowed_.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    shard.spent_until_us.emplace(key, now_us + interval_us);
    return 0;
  }
  const std::int64_t spent_until = std::max(it->second, now_us);
  if (spent_until - now_us > burst_us) return (spent_until - burst_us - now_us + 999) / 1000;
  it->second = spent_until + interval_us;
  return 0;
}

std::size_t RateLimiter::clients() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.spent_until_us.size();
  }
  return n;
}

}  // namespace waitroom::http
