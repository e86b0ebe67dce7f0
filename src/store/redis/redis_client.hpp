#pragma once
// What the Redis store asks of Redis: commands and pipelines, answered by one server
// (RedisConnection) or by whichever node of a Redis Cluster serves each command's slot
// (RedisCluster). The store's code is the same for both.
//
// Threading: every member function runs on the client's executor (a strand or a single-threaded
// io_context), except connected() and commands_sent(), which any thread may read.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/redis/redis_options.hpp"
#include "store/redis/redis_reply.hpp"

namespace waitroom::store::redis {

class RedisClient {
 public:
  virtual ~RedisClient() = default;
  // args[0] is the command name: {"SET", key, value}. Any bytes are fine in any argument. A Redis
  // error reply is a Reply{type = error}; not reaching Redis is core::ErrorCode::unavailable.
  virtual boost::asio::awaitable<core::Result<Reply>> command(std::vector<std::string> args) = 0;
  // Several commands, replies in order; fails as a whole when Redis cannot be reached. Not a
  // transaction. A command without a key (WAIT) goes where the command before it went.
  virtual boost::asio::awaitable<core::Result<std::vector<Reply>>> pipeline(
      std::vector<std::vector<std::string>> commands) = 0;
  // True while the last conversation with Redis worked.
  virtual bool connected() const = 0;
  // Every command written since construction.
  virtual std::uint64_t commands_sent() const = 0;
  // Drops the connections for good: pending and later commands fail with unavailable.
  virtual void close() = 0;
};

// A RedisCluster when options.cluster, else a RedisConnection. Connects on first use.
std::unique_ptr<RedisClient> make_redis_client(boost::asio::any_io_executor ex,
                                               RedisOptions options);

}  // namespace waitroom::store::redis
