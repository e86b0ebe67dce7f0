#pragma once
// One connection to Redis, shared by every request on its executor (DESIGN.md section 6: one
// connection per io_context). Commands are pipelined: written as they come, many per write, and
// their replies matched to them in order, so a thousand requests in flight cost a handful of
// round trips rather than a thousand.
//
// Connecting: on first use, and after a failure on the first use once the back-off (50 ms,
// doubling to 500 ms while attempts keep failing) has passed. Until then commands fail at once (the
// request gets its 503 now rather than after a timeout). Every (re)connect sends AUTH (with the
// user name when set) and SELECT db before any queued command.
//
// Failures: a command that cannot be sent, or whose reply does not arrive within command_timeout
// (counted from the call, so time spent connecting counts), fails with core::ErrorCode::unavailable
// and retry_after_s = 1, and the connection is dropped: every pending command fails the same way,
// since replies can no longer be matched to commands. A Redis error reply is NOT a failure: it is
// returned as Reply{type = error}, and the connection stays.
//
// Threading: every member function runs on the connection's executor (a strand or a
// single-threaded io_context), except connected() and commands_sent(), which any thread may read.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_options.hpp"
#include "store/redis/redis_reply.hpp"

namespace waitroom::store::redis {

class RedisConnection final : public RedisClient {
 public:
  RedisConnection(boost::asio::any_io_executor ex, RedisOptions options);
  // close()s: pending commands fail, the socket closes.
  ~RedisConnection() override;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // args[0] is the command name: {"SET", key, value}. Any bytes are fine in any argument.
  boost::asio::awaitable<core::Result<Reply>> command(std::vector<std::string> args) override;
  // Several commands in one write; replies in order (one round trip). Fails as a whole like
  // command(). Not a transaction: other coroutines' commands do not interleave with these, but
  // Redis may run other clients' commands between them (use MULTI/EXEC or a script for that).
  boost::asio::awaitable<core::Result<std::vector<Reply>>> pipeline(
      std::vector<std::vector<std::string>> commands) override;

  // True while a connection is established and logged in.
  bool connected() const override;
  // Every command written since construction, AUTH and SELECT on (re)connect included (for the
  // benchmark's "Redis commands per 1,000 enqueues").
  std::uint64_t commands_sent() const override;
  // Drops the connection for good: pending and later commands fail with unavailable.
  void close() override;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the connection's own coroutines, which outlive this
};

}  // namespace waitroom::store::redis
