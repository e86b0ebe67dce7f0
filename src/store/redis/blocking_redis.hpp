#pragma once
// A Redis connection of its own driven on the calling thread, for the few callers that are not on
// the store's thread and may wait (the history sampler once a minute, an admin request's history
// read, a webhook's delivery thread saving its place). Calls take turns under a lock and wait at
// most the command timeout.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class BlockingRedis {
 public:
  explicit BlockingRedis(RedisOptions options);
  ~BlockingRedis();

  // Sends the commands in one round trip; their replies in order (a command Redis refused is an
  // error reply among them). An error when Redis cannot be reached.
  core::Result<std::vector<Reply>> pipeline(std::vector<std::vector<std::string>> commands);

 private:
  std::mutex mu_;
  boost::asio::io_context ctx_;
  std::unique_ptr<RedisClient> redis_;  // after ctx_: closed and gone before it
};

}  // namespace waitroom::store::redis
