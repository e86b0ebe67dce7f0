#pragma once
// The Redis store's audit trail (store/audit_trail.hpp), shared by every node: the list
// PREFIX:audit holds the newest kAuditKept entries as JSON, numbered by PREFIX:audit:seq.
#include "store/audit_trail.hpp"
#include "store/redis/blocking_redis.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class RedisAuditTrail final : public AuditTrail {
 public:
  static constexpr std::int64_t kAuditKept = 1'000'000;

  RedisAuditTrail(RedisOptions options, RedisKeys keys)
      : keys_(std::move(keys)), redis_(std::move(options)) {}

  core::Result<std::uint64_t> append(AuditEntry entry) override;
  core::Result<std::vector<AuditEntry>> read(const AuditQuery& query) override;

 private:
  const RedisKeys keys_;
  BlockingRedis redis_;
};

}  // namespace waitroom::store::redis
