#include "store/redis/redis_subscriber.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <utility>

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
// The longest pause between PINGs; a dead connection is noticed within two pauses (one
// unanswered PING). Shorter when command_timeout is: see ping_interval().
constexpr auto kMaxPingInterval = std::chrono::milliseconds(5000);
constexpr auto kMinPingInterval = std::chrono::milliseconds(100);

// Twice the time a command may take, at most kMaxPingInterval: a PING unanswered for that long
// means a connection as dead as a command without a reply would.
std::chrono::milliseconds ping_interval(const RedisOptions& options) {
  return std::clamp(options.command_timeout * 2, kMinPingInterval, kMaxPingInterval);
}

// ["<kind>", ...] with at least `size` elements, the first being `kind`: how Redis frames
// everything it pushes to a subscriber (subscribe, message, pong).
bool is_push(const Reply& r, std::string_view kind, std::size_t size) {
  return r.type == Reply::Type::array && r.elements.size() >= size &&
         r.elements[0].type == Reply::Type::string && r.elements[0].str == kind;
}

}  // namespace

class RedisSubscriber::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, RedisOptions options, std::vector<std::string> channels,
       OnMessage on_message, OnConnected on_connected)
      : ex_(std::move(ex)),
        options_(std::move(options)),
        channels_(std::move(channels)),
        on_message_(std::move(on_message)),
        on_connected_(std::move(on_connected)),
        backoff_timer_(ex_),
        ping_timer_(ex_) {}

  void start() {
    if (running_) return;
    running_ = true;
    asio::co_spawn(ex_, run(shared_from_this(), ++generation_), asio::detached);
  }

  void stop() {
    if (!running_) return;
    running_ = false;
    ++generation_;
    end_session();
    backoff_timer_.cancel();
  }

  bool connected() const { return connected_.load(std::memory_order_relaxed); }

  void shard(std::function<void()> on_moved) {
    sharded_ = true;
    on_moved_ = std::move(on_moved);
  }

  void set_channels(std::vector<std::string> channels) {
    if (channels == channels_) return;
    channels_ = std::move(channels);
    if (!running_) return;
    restart_ = true;  // the session ends and the next starts at once with the new channels
    end_session();
  }

 private:
  // Sessions one after another, the back-off between them, until stop().
  static asio::awaitable<void> run(std::shared_ptr<Impl> self, std::uint64_t generation) {
    Impl& s = *self;
    std::chrono::milliseconds backoff{0};
    bool down_logged = false;
    while (generation == s.generation_) {
      bool subscribed = false;
      const std::string why = co_await s.session(self, generation, subscribed);
      if (generation != s.generation_) co_return;
      s.end_session();
      if (std::exchange(s.restart_, false)) {
        backoff = std::chrono::milliseconds(0);
        continue;
      }
      if (subscribed) backoff = std::chrono::milliseconds(0);
      backoff = backoff.count() == 0 ? kFirstBackoff : std::min(backoff * 2, kMaxBackoff);
      // Logged when the subscription goes down, not on every failed attempt while it stays down.
      if (subscribed || !down_logged) {
        ops::log_warn(subscribed ? "lost the Redis subscription" : "cannot subscribe to Redis",
                      {{"redis", redacted(s.options_.url)}, {"error", why}});
        down_logged = true;
      }
      s.backoff_timer_.expires_after(backoff);
      co_await s.backoff_timer_.async_wait(as_tuple(use_awaitable));
    }
  }

  // One connection: log in, subscribe, deliver messages until it fails. Returns why it ended
  // (empty when stop() ended it).
  asio::awaitable<std::string> session(const std::shared_ptr<Impl>& self, std::uint64_t generation,
                                       bool& subscribed) {
    if (options_.url.tls && !tls_context_) {
      auto context = make_tls_context(options_.tls_ca_file);
      if (!context) co_return context.error().detail;
      tls_context_ = std::move(*context);
    }
    auto stream = std::make_shared<RedisStream>(ex_, tls_context_);
    stream_ = stream;
    ReplyReader reader;
    // No SELECT: channels are not per database.
    auto opened = co_await open_session(stream, reader, options_, false);
    if (generation != generation_) co_return std::string();
    if (!opened) co_return opened.error().detail;

    if (!channels_.empty()) {
      // A cluster's shard channels each take an SSUBSCRIBE: one command's channels must share
      // a slot.
      std::string subscribe;
      if (sharded_) {
        for (const std::string& channel : channels_)
          append_command(subscribe, std::vector<std::string>{"SSUBSCRIBE", channel});
      } else {
        std::vector<std::string> args{"SUBSCRIBE"};
        args.insert(args.end(), channels_.begin(), channels_.end());
        append_command(subscribe, args);
      }
      StreamDeadline deadline(stream, options_.command_timeout);
      auto [ec, n] =
          co_await asio::async_write(*stream, asio::buffer(subscribe), as_tuple(use_awaitable));
      if (generation != generation_) co_return std::string();
      if (ec) co_return "cannot write SUBSCRIBE to Redis: " + ec.message();
      // One confirmation per channel; a message on a channel confirmed already may come first.
      std::size_t confirmed = 0;
      bool moved = false;
      while (confirmed < channels_.size()) {
        auto reply = co_await read_reply(*stream, reader);
        if (generation != generation_) co_return std::string();
        if (!reply) co_return reply.error().detail + " (waiting for SUBSCRIBE)";
        if (reply->is_error()) {
          // A shard channel whose slot this node does not serve (any more): the others stay.
          if (!sharded_ || !reply->str.starts_with("MOVED"))
            co_return "Redis refused SUBSCRIBE: " + reply->str;
          moved = true;
          ++confirmed;
        } else if (is_push(*reply, sharded_ ? "ssubscribe" : "subscribe", 3)) {
          ++confirmed;
        } else {
          handle(*reply);
        }
        if (generation != generation_) co_return std::string();
      }
      if (moved && on_moved_) on_moved_();
    }

    subscribed = true;
    connected_ = true;
    ops::log_info("subscribed to Redis",
                  {{"redis", redacted(options_.url)},
                   {"channels", static_cast<std::int64_t>(channels_.size())}});
    asio::co_spawn(ex_, ping_loop(self, stream), asio::detached);
    if (on_connected_) on_connected_();
    for (;;) {
      if (generation != generation_) co_return std::string();
      auto reply = co_await read_reply(*stream, reader);
      if (generation != generation_) co_return std::string();
      if (!reply)
        co_return stream->expired() ? "no answer to PING from Redis" : reply.error().detail;
      handle(*reply);
    }
  }

  void handle(const Reply& reply) {
    if (is_push(reply, "message", 3) || is_push(reply, "smessage", 3)) {
      if (on_message_) on_message_(reply.elements[1].str, reply.elements[2].str);
    } else if (is_push(reply, "pong", 1)) {
      ping_outstanding_ = false;
    } else if (is_push(reply, "sunsubscribe", 2) && on_moved_) {
      on_moved_();  // the channel's slot moved to another node
    }
  }

  static asio::awaitable<void> ping_loop(std::shared_ptr<Impl> self,
                                         std::shared_ptr<RedisStream> stream) {
    Impl& s = *self;
    s.ping_outstanding_ = false;
    std::string ping;
    const std::vector<std::string> args{"PING"};
    append_command(ping, args);
    for (;;) {
      s.ping_timer_.expires_after(ping_interval(s.options_));
      auto [ec] = co_await s.ping_timer_.async_wait(as_tuple(use_awaitable));
      // The session ended (end_session() cancels the timer, resets stream_) or another began.
      if (ec || s.stream_ != stream) co_return;
      if (s.ping_outstanding_) {
        stream->expire();  // the reader fails and the session ends
        co_return;
      }
      s.ping_outstanding_ = true;
      auto [write_ec, n] =
          co_await asio::async_write(*stream, asio::buffer(ping), as_tuple(use_awaitable));
      if (write_ec || s.stream_ != stream) co_return;  // a failed write fails the reader too
    }
  }

  void end_session() {
    connected_ = false;
    if (stream_) stream_->close();
    stream_.reset();
    ping_timer_.cancel();
  }

  asio::any_io_executor ex_;
  RedisOptions options_;
  std::vector<std::string> channels_;
  OnMessage on_message_;
  OnConnected on_connected_;
  bool running_ = false;
  std::uint64_t generation_ = 0;  // bumped by start() and stop(): a stale run() stops
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::shared_ptr<RedisStream> stream_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer ping_timer_;
  bool ping_outstanding_ = false;
  bool sharded_ = false;
  bool restart_ = false;  // set_channels() ended the session: the next one starts at once
  std::function<void()> on_moved_;
  std::atomic<bool> connected_{false};
};

RedisSubscriber::RedisSubscriber(asio::any_io_executor ex, RedisOptions options,
                                 std::vector<std::string> channels, OnMessage on_message,
                                 OnConnected on_connected)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(options), std::move(channels),
                                   std::move(on_message), std::move(on_connected))) {}

RedisSubscriber::~RedisSubscriber() { impl_->stop(); }

void RedisSubscriber::shard(std::function<void()> on_moved) { impl_->shard(std::move(on_moved)); }

void RedisSubscriber::set_channels(std::vector<std::string> channels) {
  impl_->set_channels(std::move(channels));
}

void RedisSubscriber::start() { impl_->start(); }

void RedisSubscriber::stop() { impl_->stop(); }

bool RedisSubscriber::connected() const { return impl_->connected(); }

}  // namespace waitroom::store::redis
