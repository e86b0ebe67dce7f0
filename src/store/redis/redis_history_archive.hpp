#pragma once
// The Redis store's HistoryArchive: every node writes and reads the same minutes, so each serves
// the same history and a node's restart loses nothing.
//
//   PREFIX:{ROOM}:history:YYYY-MM-DD   hash: minute start (ms, decimal) -> line (minute_record.hpp)
//
// Every node samples every room, so each writes its copy of a minute with HSETNX: the first copy
// stays and the others change nothing (copies differ by at most the nodes' sampling moments).
// Each day's hash expires history_days after its day ends, which is all the pruning Redis needs.
//
// One connection of its own, driven on the calling thread (the sampler's once a minute; an admin
// request's read): blocking_redis.hpp.
#include "store/history_archive.hpp"
#include "store/redis/blocking_redis.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class RedisHistoryArchive final : public HistoryArchive {
 public:
  RedisHistoryArchive(RedisOptions options, RedisKeys keys, int history_days);
  ~RedisHistoryArchive() override;

  core::Result<void> append(const std::vector<RoomMinute>& minutes) override;
  core::Result<std::vector<MinuteAggregate>> read(std::string_view room, std::int64_t from_ms,
                                                  std::int64_t to_ms) override;
  core::Result<void> forget(std::string_view room, std::int64_t now_ms) override;
  // Expiry drops old days; rooms deleted while no node watched go with their days.
  core::Result<void> prune(std::int64_t, const std::vector<std::string>&) override { return {}; }

 private:
  std::string day_key(std::string_view room, std::int64_t at_ms) const;

  const RedisKeys keys_;
  BlockingRedis redis_;
};

}  // namespace waitroom::store::redis
