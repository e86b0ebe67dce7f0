#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace waitroom::http {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

core::IpBytes key(unsigned char n) {
  core::IpBytes k{};
  k[15] = n;
  return k;
}

TEST(RateLimiter, TheWholeAllowanceAtOnceThenItsPace) {
  RateLimiter limiter;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire(key(1), 3, 3000, kNow), 0);
  const std::int64_t wait = limiter.acquire(key(1), 3, 3000, kNow);
  EXPECT_EQ(wait, 1000);  // one request per second comes back
  EXPECT_GT(limiter.acquire(key(1), 3, 3000, kNow + 999), 0);
  EXPECT_EQ(limiter.acquire(key(1), 3, 3000, kNow + 1000), 0);
  EXPECT_GT(limiter.acquire(key(1), 3, 3000, kNow + 1000), 0);
  // A refused request does not use the allowance.
  EXPECT_EQ(limiter.acquire(key(1), 3, 3000, kNow + 2000), 0);
}

TEST(RateLimiter, ClientsAreCountedApartAndForgottenWhenIdle) {
  RateLimiter limiter;
  EXPECT_EQ(limiter.acquire(key(1), 1, 60'000, kNow), 0);
  EXPECT_GT(limiter.acquire(key(1), 1, 60'000, kNow), 0);
  EXPECT_EQ(limiter.acquire(key(2), 1, 60'000, kNow), 0);
  EXPECT_EQ(limiter.clients(), 2u);
  // A minute later key 1 may come again, and the next sweep forgets whoever is idle.
  EXPECT_EQ(limiter.acquire(key(1), 1, 60'000, kNow + 60'000), 0);
  for (unsigned char k = 0; k < 64; ++k) limiter.acquire(key(k), 1, 60'000, kNow + 300'000);
  EXPECT_EQ(limiter.clients(), 64u);
  EXPECT_EQ(limiter.acquire(key(200), 0, 60'000, kNow), 0);  // limit 0: no limit
}

TEST(RateLimiter, PastTheCapNewClientsGoThroughAndAreCounted) {
  RateLimiter limiter;
  const std::size_t total = RateLimiter::kShards * RateLimiter::kMaxClientsPerShard + 5000;
  std::size_t let_through = 0;
  for (std::size_t i = 0; i < total; ++i) {
    core::IpBytes k{};
    k[12] = static_cast<unsigned char>(i >> 16);
    k[13] = static_cast<unsigned char>(i >> 8);
    k[14] = static_cast<unsigned char>(i);
    if (limiter.acquire(k, 1, 60'000, kNow) == 0) ++let_through;
  }
  EXPECT_EQ(let_through, total);
  EXPECT_GT(limiter.overflowed(), 0u);
  EXPECT_LE(limiter.clients(), RateLimiter::kShards * RateLimiter::kMaxClientsPerShard);
}

}  // namespace
}  // namespace waitroom::http
