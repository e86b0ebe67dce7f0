#include "store/redis/blocking_redis.hpp"

#include <boost/asio/co_spawn.hpp>
#include <optional>

namespace waitroom::store::redis {

namespace asio = boost::asio;
using core::ErrorCode;

BlockingRedis::BlockingRedis(RedisOptions options)
    : redis_(make_redis_client(ctx_.get_executor(), std::move(options))) {}

BlockingRedis::~BlockingRedis() { redis_->close(); }

core::Result<std::vector<Reply>> BlockingRedis::pipeline(
    std::vector<std::vector<std::string>> commands) {
  std::lock_guard lock(mu_);
  std::optional<core::Result<std::vector<Reply>>> out;
  ctx_.restart();
  asio::co_spawn(ctx_, redis_->pipeline(std::move(commands)),
                 [&out](std::exception_ptr e, core::Result<std::vector<Reply>> r) {
                   if (e)
                     out.emplace(core::fail(ErrorCode::unavailable, "Redis: failed"));
                   else
                     out.emplace(std::move(r));
                 });
  // The connection's own work (its reader, its timeouts) runs here too, until the reply is in;
  // the command timeout bounds the wait.
  while (!out && ctx_.run_one() > 0) {
  }
  if (!out) return core::fail(ErrorCode::unavailable, "the conversation with Redis did not finish");
  return std::move(*out);
}

}  // namespace waitroom::store::redis
