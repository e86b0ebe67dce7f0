#include "store/redis/redis_connection.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <span>

#include "ops/log.hpp"
#include "store/redis/redis_protocol.hpp"
#include "store/redis/redis_session.hpp"
#include "store/redis/redis_stream.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::use_awaitable;

namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::milliseconds(500);  // back within 2 s of Redis (issue 7)
constexpr std::int64_t kRetryAfterS = 1;

using Clock = std::chrono::steady_clock;
using Replies = core::Result<std::vector<Reply>>;
using Handler = asio::any_completion_handler<void(Replies)>;

std::unexpected<core::Error> unavailable(std::string detail) {
  return core::fail(core::ErrorCode::unavailable, std::move(detail), kRetryAfterS);
}

// Completes a caller from the back of its executor's queue, never inside our own loops: the
// caller may issue its next command at once, which changes the queue being walked.
void finish(const asio::any_io_executor& ex, Handler handler, Replies result) {
  asio::post(ex, [h = std::move(handler), r = std::move(result)]() mutable {
    std::move(h)(std::move(r));
  });
}

}  // namespace

class RedisConnection::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, RedisOptions options)
      : ex_(std::move(ex)), options_(std::move(options)), watchdog_(ex_) {}

  // Queues `commands` and completes with their replies. `commands` is read before this returns
  // to the awaiting coroutine's first suspension, so it may live in that coroutine's frame.
  template <class Token>
  auto async_submit(std::span<const std::vector<std::string>> commands, Token&& token) {
    return asio::async_initiate<Token, void(Replies)>(
        [self = shared_from_this()](auto handler, std::span<const std::vector<std::string>> c) {
          // Tracked: a caller waiting for its reply keeps its io_context running.
          asio::any_io_executor ex = asio::prefer(asio::get_associated_executor(handler, self->ex_),
                                                  asio::execution::outstanding_work.tracked);
          self->submit(c, std::move(ex), Handler(std::move(handler)));
        },
        token, commands);
  }

  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t commands_sent() const { return commands_sent_.load(std::memory_order_relaxed); }

  void close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    connected_ = false;
    ++session_;
    drop_stream();
    watchdog_.cancel();
    fail_all("the Redis connection is closed");
  }

 private:
  enum class State { idle, connecting, ready, closed };

  // Commands submitted together, waiting for their replies. Never move-assigned (only moved
  // into the deque and popped): Boost 1.81's any_completion_handler move assignment is broken
  // (see DurableLog::writer_loop).
  struct Pending {
    std::size_t count;
    std::vector<Reply> replies;
    Clock::time_point deadline;
    asio::any_io_executor executor;
    Handler handler;
  };

  void submit(std::span<const std::vector<std::string>> commands, asio::any_io_executor ex,
              Handler handler) {
    // `*0\r\n` gets no reply at all from Redis, which would shift every later reply by one.
    if (std::any_of(commands.begin(), commands.end(), [](const auto& c) { return c.empty(); }))
      return finish(
          ex, std::move(handler),
          core::fail(core::ErrorCode::internal, "a Redis command needs at least its name"));
    if (state_ == State::closed)
      return finish(ex, std::move(handler), unavailable("the Redis connection is closed"));
    if (state_ == State::idle) {
      const auto now = Clock::now();
      if (now < next_attempt_) {
        const auto wait_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now).count();
        return finish(ex, std::move(handler),
                      unavailable(last_error_ + "; next attempt to connect in " +
                                  std::to_string(wait_ms) + " ms"));
      }
    }
    for (const std::vector<std::string>& command : commands) append_command(out_, command);
    out_count_ += commands.size();
    pending_.push_back(Pending{commands.size(),
                               {},
                               Clock::now() + options_.command_timeout,
                               std::move(ex),
                               std::move(handler)});
    pending_.back().replies.reserve(commands.size());
    if (pending_.size() == 1) arm_watchdog();
    // Queued first: co_spawn may run the session (or the writer) at once, up to its first wait,
    // and a session that fails there must find this command to fail.
    if (state_ == State::idle)
      start_session();
    else
      kick_writer();
  }

  void start_session() {
    state_ = State::connecting;
    asio::co_spawn(ex_, run_session(shared_from_this(), ++session_), asio::detached);
  }

  // One connection's life: connect and log in, then read replies until it fails or is replaced.
  static asio::awaitable<void> run_session(std::shared_ptr<Impl> self, std::uint64_t session) {
    Impl& c = *self;
    if (session != c.session_) co_return;  // closed before it started
    if (c.options_.url.tls && !c.tls_context_) {
      auto context = make_tls_context(c.options_.tls_ca_file);
      if (!context) {
        c.fail_session(session, context.error().detail);
        co_return;
      }
      c.tls_context_ = std::move(*context);
    }
    auto stream = std::make_shared<RedisStream>(c.ex_, c.tls_context_);
    c.stream_ = stream;
    ReplyReader reader;
    auto opened = co_await open_session(stream, reader, c.options_, true);
    if (session != c.session_) co_return;
    if (!opened) {
      c.fail_session(session, opened.error().detail);
      co_return;
    }
    c.on_ready(*opened);
    for (;;) {
      auto reply = co_await read_reply(*stream, reader);
      if (session != c.session_) co_return;
      if (!reply) {
        c.fail_session(session, "lost the connection to Redis at " + redacted(c.options_.url) +
                                    ": " + reply.error().detail);
        co_return;
      }
      if (!c.deliver(std::move(*reply))) {
        c.fail_session(session, "Redis at " + redacted(c.options_.url) +
                                    " sent a reply no command was waiting for");
        co_return;
      }
    }
  }

  void on_ready(std::size_t hello_commands) {
    state_ = State::ready;
    connected_ = true;
    commands_sent_ += hello_commands;
    backoff_ = std::chrono::milliseconds(0);
    ops::log_info(down_logged_ ? "connected to Redis again" : "connected to Redis",
                  {{"redis", redacted(options_.url)}});
    down_logged_ = false;
    kick_writer();
  }

  // Hands a reply to the oldest pending command; false when nothing was waiting.
  bool deliver(Reply reply) {
    if (pending_.empty()) return false;
    Pending& front = pending_.front();
    front.replies.push_back(std::move(reply));
    if (front.replies.size() < front.count) return true;
    finish(front.executor, std::move(front.handler), std::move(front.replies));
    pending_.pop_front();
    return true;
  }

  // One writer per connection: what was queued while a write was on its way goes out in the
  // next one, so a burst of commands costs one write, not one each.
  void kick_writer() {
    if (state_ != State::ready || writing_ || out_.empty()) return;
    writing_ = true;
    asio::co_spawn(ex_, write_loop(shared_from_this(), session_, stream_), asio::detached);
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<Impl> self, std::uint64_t session,
                                          std::shared_ptr<RedisStream> stream) {
    Impl& c = *self;
    std::string batch;
    while (session == c.session_ && !c.out_.empty()) {
      batch.swap(c.out_);  // out_ takes batch's emptied buffer: no allocation per write
      c.commands_sent_ += c.out_count_;
      c.out_count_ = 0;
      auto [ec, n] =
          co_await asio::async_write(*stream, asio::buffer(batch), as_tuple(use_awaitable));
      if (session != c.session_) co_return;
      if (ec) {
        c.fail_session(
            session, "cannot write to Redis at " + redacted(c.options_.url) + ": " + ec.message());
        co_return;
      }
      batch.clear();
    }
    if (session == c.session_) c.writing_ = false;
  }

  // The oldest pending command has the earliest deadline (one timeout for all, queued in
  // order), so one timer set to it watches them all.
  void arm_watchdog() {
    watchdog_.expires_at(pending_.front().deadline);
    watchdog_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->on_watchdog();
    });
  }

  void on_watchdog() {
    if (pending_.empty() || state_ == State::closed) return;
    if (pending_.front().deadline > Clock::now()) return arm_watchdog();
    const std::string why = "no reply from Redis at " + redacted(options_.url) + " within " +
                            std::to_string(options_.command_timeout.count()) + " ms";
    if (state_ == State::idle)
      fail_all(why);  // not expected: pending commands always have a session
    else
      fail_session(session_, why);
  }

  // Drops the connection of `session` (if still current): its pending commands fail, and the
  // next command reconnects once the back-off has passed.
  void fail_session(std::uint64_t session, const std::string& detail) {
    if (session != session_ || state_ == State::idle || state_ == State::closed) return;
    const bool was_ready = state_ == State::ready;
    ++session_;
    state_ = State::idle;
    connected_ = false;
    drop_stream();
    backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    next_attempt_ = Clock::now() + backoff_;
    last_error_ = detail;
    // Logged when the connection goes down, not on every failed attempt while it stays down.
    if (was_ready || !down_logged_) {
      ops::log_warn(was_ready ? "lost the connection to Redis" : "cannot connect to Redis",
                    {{"redis", redacted(options_.url)}, {"error", detail}});
      down_logged_ = true;
    }
    fail_all(detail);
  }

  void drop_stream() {
    if (stream_) stream_->close();
    stream_.reset();
    out_.clear();
    out_count_ = 0;
    writing_ = false;
  }

  void fail_all(const std::string& detail) {
    std::deque<Pending> failed;
    failed.swap(pending_);
    for (Pending& p : failed) finish(p.executor, std::move(p.handler), unavailable(detail));
  }

  asio::any_io_executor ex_;
  RedisOptions options_;
  State state_ = State::idle;
  std::uint64_t session_ = 0;  // bumped whenever a connection starts or ends: stale coroutines
                               // compare it and stop
  std::shared_ptr<asio::ssl::context> tls_context_;  // rediss://, made on the first connect
  std::shared_ptr<RedisStream> stream_;
  std::string out_;  // encoded commands not yet handed to a write
  std::size_t out_count_ = 0;
  bool writing_ = false;
  std::deque<Pending> pending_;  // in the order their commands were (or will be) written
  asio::steady_timer watchdog_;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point next_attempt_{};
  std::string last_error_;
  bool down_logged_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> commands_sent_{0};
};

RedisConnection::RedisConnection(asio::any_io_executor ex, RedisOptions options)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(options))) {}

RedisConnection::~RedisConnection() { impl_->close(); }

asio::awaitable<core::Result<Reply>> RedisConnection::command(std::vector<std::string> args) {
  std::shared_ptr<Impl> impl = impl_;  // alive until we resume, even if *this is destroyed
  const std::span<const std::vector<std::string>> one(&args, 1);
  auto replies = co_await impl->async_submit(one, use_awaitable);
  if (!replies) co_return std::unexpected(std::move(replies.error()));
  co_return std::move(replies->front());
}

asio::awaitable<core::Result<std::vector<Reply>>> RedisConnection::pipeline(
    std::vector<std::vector<std::string>> commands) {
  if (commands.empty()) co_return std::vector<Reply>{};
  std::shared_ptr<Impl> impl = impl_;
  const std::span<const std::vector<std::string>> all(commands);
  auto replies = co_await impl->async_submit(all, use_awaitable);
  co_return replies;
}

bool RedisConnection::connected() const { return impl_->connected(); }

std::uint64_t RedisConnection::commands_sent() const { return impl_->commands_sent(); }

void RedisConnection::close() { impl_->close(); }

}  // namespace waitroom::store::redis
