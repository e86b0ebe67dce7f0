#pragma once
// Where the Redis store's webhook sinks keep their place in the event feed, shared by every node:
//
//   PREFIX:webhook:ID:positions   hash: room -> last acknowledged seq ("" -> 1 marks it saved)
//   PREFIX:webhook:ID:lease       the node that delivers for the webhook (SET PX, renewed)
//
// One node at a time delivers a webhook's events, so they leave in order; it holds the lease and
// renews it while it delivers. The others follow the saved positions (their copies of the feed
// let go of what was delivered) and take over when the lease runs out: a node that stops or
// loses Redis stops delivering before another may start. Positions only grow: a save never moves
// a room back (a node that lost the lease mid-batch may save late).
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "ops/event_feed.hpp"
#include "store/redis/blocking_redis.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class RedisFeedCursors final : public ops::FeedCursors {
 public:
  RedisFeedCursors(RedisOptions options, RedisKeys keys);
  ~RedisFeedCursors() override;  // lets go of the leases it holds

  core::Result<std::optional<ops::FeedPositions>> load(const std::string& reader) override;
  core::Result<void> save(const std::string& reader, const ops::FeedPositions& positions) override;
  bool lead(const std::string& reader) override;

 private:
  struct Lease {
    std::chrono::steady_clock::time_point until{};     // held until then (as this node counts)
    std::chrono::steady_clock::time_point renew_at{};  // asked again then
  };

  const RedisKeys keys_;
  const std::string node_;
  BlockingRedis redis_;
  std::mutex mu_;
  std::map<std::string, Lease> leases_;  // by reader id
};

}  // namespace waitroom::store::redis
