#pragma once
// What every connection to Redis does first, and how it reads: shared by RedisConnection (which
// pipelines commands) and RedisSubscriber (which listens).
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>

#include "core/error.hpp"
#include "store/redis/redis_options.hpp"
#include "store/redis/redis_protocol.hpp"
#include "store/redis/redis_reply.hpp"
#include "store/redis/redis_stream.hpp"

namespace waitroom::store::redis {

// Connects `stream` (TCP, then TLS for rediss://) within options.connect_timeout, then sends AUTH
// (when the URL has a password, with the user name when it has one) and SELECT (when `select_db`
// and the database is not 0) in one write, and checks their replies within
// options.command_timeout. A Redis error reply to either (wrong password, no such database) fails
// it with the server's words. Fails with unavailable, retry_after_s = 1. Returns how many
// commands it wrote.
boost::asio::awaitable<core::Result<std::size_t>> open_session(
    const std::shared_ptr<RedisStream>& stream, ReplyReader& reader, const RedisOptions& options,
    bool select_db);

// The next reply on `stream`: from what `reader` holds already, else after reading more. Fails
// (unavailable) when the stream ends or errs, or on bytes that are not RESP.
boost::asio::awaitable<core::Result<Reply>> read_reply(RedisStream& stream, ReplyReader& reader);

}  // namespace waitroom::store::redis
