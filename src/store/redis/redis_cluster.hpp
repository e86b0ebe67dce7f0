#pragma once
// A Redis Cluster seen as one Redis (docs/scaling.md, "Redis Cluster"): each command goes to the
// primary serving its key's slot (redis_slots.hpp), over one pipelined RedisConnection per
// primary. The slot map comes from CLUSTER SLOTS, asked of any node this client knows (the
// URL's seeds first); it is read again after a MOVED (the slot's new owner is used at once),
// after a node could not be reached (a failover: the replica promoted serves the slots), and at
// most every 100 ms while that goes on. ASK is followed once with ASKING; TRYAGAIN (a room's keys
// half moved by a reshard) is tried again every 25 ms within the command timeout. A node that
// cannot be reached fails its commands with unavailable at once, like one Redis down.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>

#include "store/redis/redis_client.hpp"
#include "store/redis/redis_url.hpp"

namespace waitroom::store::redis {

class RedisCluster final : public RedisClient {
 public:
  RedisCluster(boost::asio::any_io_executor ex, RedisOptions options);
  ~RedisCluster() override;  // close()s
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  boost::asio::awaitable<core::Result<Reply>> command(std::vector<std::string> args) override;
  boost::asio::awaitable<core::Result<std::vector<Reply>>> pipeline(
      std::vector<std::vector<std::string>> commands) override;
  bool connected() const override;
  std::uint64_t commands_sent() const override;
  void close() override;

  // The primary serving `slot` as the map says now (nullopt: no map yet, or no owner).
  std::optional<RedisEndpoint> owner(std::uint16_t slot) const;
  // Any primary (for commands of no slot, such as SUBSCRIBE), and all of them.
  std::optional<RedisEndpoint> any_primary() const;
  std::vector<RedisEndpoint> primaries() const;
  // Bumped whenever the map changes: subscribers move their channels then.
  std::uint64_t map_version() const;
  // Reads the map again soon (a subscriber lost its node).
  void refresh_soon();
  // Reads the map now, unless it was read within the last 100 ms.
  boost::asio::awaitable<void> refresh();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with its own coroutines, which may outlive this
};

}  // namespace waitroom::store::redis
