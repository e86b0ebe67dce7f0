#pragma once
// A per-client rate limit: at most `limit` requests per `period`, `limit` of them at once (GCRA:
// one number per client, the time its allowance is spent until). Sharded so that I/O threads
// rarely meet on a lock; a client that has used nothing for a period holds no memory after the
// next sweep, and the number of clients kept is capped (past the cap, new clients are let
// through and counted, rather than refusing everyone: the limit is against the few, not a gate).
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "core/ip_network.hpp"

namespace waitroom::http {

class RateLimiter {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxClientsPerShard = 16'384;

  // 0 when the request may go now (and is counted); otherwise the milliseconds until it could.
  std::int64_t acquire(const core::IpBytes& key, std::int64_t limit, std::int64_t period_ms,
                       std::int64_t now_ms);
  // Clients let through unlimited because the table was full.
  std::uint64_t overflowed() const { return overflowed_.load(std::memory_order_relaxed); }
  std::size_t clients() const;

 private:
  struct KeyHash {
    std::size_t operator()(const core::IpBytes& k) const noexcept;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<core::IpBytes, std::int64_t, KeyHash> spent_until_us;  // GCRA's "TAT"
    std::int64_t next_sweep_us = 0;
  };
  void sweep(Shard& shard, std::int64_t now_us);
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> overflowed_{0};
};

}  // namespace waitroom::http
