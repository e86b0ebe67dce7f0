#pragma once
// Test-only helpers shared by the Redis client's tests (and the Redis store's).
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/redis_connection.hpp"
#include "testing/redis_server.hpp"
#include "testing/run_awaitable.hpp"

#define SKIP_WITHOUT_REDIS_SERVER()                 \
  if (!waitroom::testing::RedisServer::available()) \
  GTEST_SKIP() << "needs " << waitroom::testing::RedisServer::kBinary

namespace waitroom::store::redis {

inline RedisOptions local_redis(std::uint16_t port) {
  RedisOptions options;
  options.url.host = "127.0.0.1";
  options.url.port = port;
  return options;
}

// One command: call(redis, "SET", key, "1"). The arguments are taken by reference and the
// vector made inside, because with g++ 12 a non-trivial temporary (or a braced list) inside a
// co_await expression miscompiles; pass named strings or literals.
template <class... Args>
boost::asio::awaitable<core::Result<Reply>> call(RedisConnection& redis, const Args&... args) {
  auto op = redis.command(std::vector<std::string>{std::string(std::string_view(args))...});
  co_return co_await std::move(op);
}

// The command again every 20 ms until it succeeds (a reply, error replies included) or `limit`
// passes: for waiting out a reconnect.
template <class... Args>
boost::asio::awaitable<core::Result<Reply>> call_until_ok(RedisConnection& redis,
                                                          std::chrono::steady_clock::duration limit,
                                                          const Args&... args) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto op = redis.command(std::vector<std::string>{std::string(std::string_view(args))...});
    auto reply = co_await std::move(op);
    if (reply || std::chrono::steady_clock::now() >= deadline) co_return reply;
    co_await waitroom::testing::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace waitroom::store::redis
