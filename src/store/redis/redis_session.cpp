#include "store/redis/redis_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <vector>

namespace waitroom::store::redis {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

constexpr std::int64_t kRetryAfterS = 1;

std::unexpected<core::Error> unavailable(std::string detail) {
  return core::fail(core::ErrorCode::unavailable, std::move(detail), kRetryAfterS);
}

}  // namespace

asio::awaitable<core::Result<Reply>> read_reply(RedisStream& stream, ReplyReader& reader) {
  Reply reply;
  for (;;) {
    auto got = reader.next(reply);
    if (!got) co_return unavailable(got.error().detail);
    if (*got) co_return std::move(reply);
    const std::span<char> buffer = reader.read_buffer();
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                                   as_tuple(use_awaitable));
    if (ec)
      co_return unavailable(stream.expired() ? "no reply from Redis in time"
                                             : "the connection to Redis ended: " + ec.message());
    reader.feed(std::string_view(buffer.data(), n));
  }
}

asio::awaitable<core::Result<std::size_t>> open_session(const std::shared_ptr<RedisStream>& stream,
                                                        ReplyReader& reader,
                                                        const RedisOptions& options,
                                                        bool select_db) {
  const RedisUrl& url = options.url;
  {
    StreamDeadline deadline(stream, options.connect_timeout);
    auto connected = co_await stream->connect(url);
    if (!connected) {
      if (stream->expired())
        co_return unavailable("no connection to Redis at " + redacted(url) + " within " +
                              std::to_string(options.connect_timeout.count()) + " ms");
      co_return std::unexpected(std::move(connected.error()));
    }
  }

  // AUTH and SELECT go out together, before anything else: the server answers them in order.
  std::string hello;
  std::vector<std::string> what;  // the command each reply answers, for the error message
  if (!url.password.empty() || !url.username.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!url.username.empty()) auth.push_back(url.username);
    auth.push_back(url.password);
    append_command(hello, auth);
    what.push_back(url.username.empty() ? "AUTH" : "AUTH as user " + url.username);
  }
  if (select_db && url.db != 0) {
    const std::vector<std::string> select{"SELECT", std::to_string(url.db)};
    append_command(hello, select);
    what.push_back("SELECT " + std::to_string(url.db));
  }
  if (what.empty()) co_return 0;

  StreamDeadline deadline(stream, options.command_timeout);
  auto [ec, n] = co_await asio::async_write(*stream, asio::buffer(hello), as_tuple(use_awaitable));
  if (ec) co_return unavailable("cannot write to Redis at " + redacted(url) + ": " + ec.message());
  for (const std::string& command : what) {
    auto reply = co_await read_reply(*stream, reader);
    if (!reply) co_return unavailable(reply.error().detail + " (waiting for " + command + ")");
    if (reply->is_error())
      co_return unavailable("Redis at " + redacted(url) + " refused " + command + ": " +
                            reply->str);
  }
  co_return what.size();
}

}  // namespace waitroom::store::redis
