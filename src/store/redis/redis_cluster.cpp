#include "store/redis/redis_cluster.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <map>

#include "ops/log.hpp"
#include "store/redis/redis_cluster_map.hpp"
#include "store/redis/redis_connection.hpp"
#include "store/redis/redis_slots.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxRedirects = 5;
constexpr auto kRefreshAtMostEvery = std::chrono::milliseconds(100);
constexpr auto kTryAgainAfter = std::chrono::milliseconds(25);
constexpr std::int64_t kRetryAfterS = 1;

std::unexpected<core::Error> unavailable(std::string detail) {
  return core::fail(core::ErrorCode::unavailable, std::move(detail), kRetryAfterS);
}

}  // namespace

class RedisCluster::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, RedisOptions options)
      : ex_(std::move(ex)), options_(std::move(options)), refreshed_(ex_) {
    refreshed_.expires_at(Clock::time_point::max());
  }

  // One command to the node serving its slot, following MOVED, ASK and TRYAGAIN. Also returns
  // the node that answered, where a WAIT after it must go.
  struct Routed {
    core::Result<Reply> reply;
    std::optional<RedisEndpoint> at;
  };
  asio::awaitable<Routed> route(const std::vector<std::string>& args) {
    auto self = shared_from_this();
    const auto key = command_key(args);
    const std::optional<std::uint16_t> slot =
        key ? std::optional<std::uint16_t>(key_slot(*key)) : std::nullopt;
    const auto deadline = Clock::now() + options_.command_timeout;
    std::optional<RedisEndpoint> ask;
    for (int redirects = 0;;) {
      if (closed_) co_return Routed{unavailable("the Redis connection is closed"), std::nullopt};
      if (!map_) co_await refresh();
      std::optional<RedisEndpoint> at = ask ? ask : target(slot);
      if (!at) {
        refresh_soon();
        co_return Routed{unavailable(no_owner(slot)), std::nullopt};
      }
      core::Result<Reply> reply;
      if (ask) {
        std::vector<std::vector<std::string>> asking{std::vector<std::string>{"ASKING"}, args};
        auto replies = co_await node(*at).pipeline(std::move(asking));
        sent_.fetch_add(2, std::memory_order_relaxed);
        if (replies)
          reply = std::move(replies->back());
        else
          reply = std::unexpected(replies.error());
      } else {
        reply = co_await node(*at).command(args);
        sent_.fetch_add(1, std::memory_order_relaxed);
      }
      ask.reset();
      if (!reply) {
        ok_ = false;
        refresh_soon();  // a primary down: its replica is promoted, and the map says so
        co_return Routed{std::move(reply), at};
      }
      ok_ = true;
      if (!reply->is_error()) co_return Routed{std::move(reply), at};
      if (auto redirect = parse_redirect(reply->str); redirect && redirects < kMaxRedirects) {
        ++redirects;
        if (redirect->to.host.empty()) redirect->to.host = at->host;
        if (redirect->ask) {
          ask = redirect->to;
        } else if (map_) {
          map_->set_owner(redirect->slot, redirect->to);
          ++version_;
          refresh_soon();
        }
        continue;
      }
      if (reply->str.starts_with("TRYAGAIN") && Clock::now() + kTryAgainAfter < deadline) {
        // A reshard moves the slot's keys: some here, some there, for a moment.
        asio::steady_timer pause(ex_, kTryAgainAfter);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (reply->str.starts_with("TRYAGAIN") || reply->str.starts_with("CLUSTERDOWN") ||
          reply->str.starts_with("MOVED") || reply->str.starts_with("ASK")) {
        refresh_soon();
        co_return Routed{unavailable("Redis Cluster: " + reply->str), at};
      }
      co_return Routed{std::move(reply), at};
    }
  }

  asio::awaitable<core::Result<std::vector<Reply>>> pipeline(
      const std::vector<std::vector<std::string>>& commands) {
    auto self = shared_from_this();
    if (!map_) co_await refresh();
    // Each command's node: its slot's, or (no key: WAIT) the one before's.
    std::vector<std::optional<RedisEndpoint>> targets(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
      const auto key = command_key(commands[i]);
      targets[i] = key ? target(key_slot(*key)) : i > 0 ? targets[i - 1] : target(std::nullopt);
      if (!targets[i]) {
        refresh_soon();
        co_return unavailable(no_owner(key ? std::optional(key_slot(*key)) : std::nullopt));
      }
    }
    // Runs of commands for one node go in one round trip each.
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t from = 0; from < commands.size();) {
      std::size_t to = from + 1;
      while (to < commands.size() && targets[to] == targets[from]) ++to;
      std::vector<std::vector<std::string>> run(
          commands.begin() + static_cast<std::ptrdiff_t>(from),
          commands.begin() + static_cast<std::ptrdiff_t>(to));
      auto got = co_await node(*targets[from]).pipeline(std::move(run));
      sent_.fetch_add(to - from, std::memory_order_relaxed);
      if (!got) {
        ok_ = false;
        refresh_soon();
        co_return std::unexpected(got.error());
      }
      ok_ = true;
      for (Reply& r : *got) replies.push_back(std::move(r));
      from = to;
    }
    // A command sent where its slot no longer is goes again, alone, where it is now; a keyless
    // command behind it (WAIT) follows it there.
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (!replies[i].is_error() || !is_cluster_refusal(replies[i].str)) continue;
      auto routed = co_await route(commands[i]);
      if (!routed.reply) co_return std::unexpected(routed.reply.error());
      replies[i] = std::move(*routed.reply);
      for (std::size_t j = i + 1; j < commands.size() && !command_key(commands[j]); ++j) {
        auto again = co_await node(*routed.at).command(commands[j]);
        sent_.fetch_add(1, std::memory_order_relaxed);
        if (!again) co_return std::unexpected(again.error());
        replies[j] = std::move(*again);
        i = j;
      }
    }
    co_return replies;
  }

  asio::awaitable<void> refresh() {
    auto self = shared_from_this();
    if (closed_) co_return;
    if (map_ && Clock::now() < last_refresh_ + kRefreshAtMostEvery) co_return;
    if (refreshing_) {  // one reads the map; the others wait for it
      co_await refreshed_.async_wait(asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    refreshing_ = true;
    last_refresh_ = Clock::now();
    std::vector<RedisEndpoint> ask;
    if (map_) ask = map_->primaries();
    for (const RedisEndpoint& seed : options_.url.seeds)
      if (std::find(ask.begin(), ask.end(), seed) == ask.end()) ask.push_back(seed);
    std::string last_error = "no node to ask";
    for (const RedisEndpoint& at : ask) {
      std::vector<std::string> slots{"CLUSTER", "SLOTS"};
      auto reply = co_await node(at).command(std::move(slots));
      sent_.fetch_add(1, std::memory_order_relaxed);
      if (closed_) break;
      if (!reply) {
        last_error = reply.error().detail;
        continue;
      }
      auto map = ClusterMap::parse(*reply, at);
      if (!map) {
        last_error = map.error().detail;
        continue;
      }
      const bool changed = !map_ || map_->primaries() != map->primaries() || differs(*map);
      if (changed) {
        ops::log_info("read the Redis Cluster's slot map",
                      {{"primaries", static_cast<std::int64_t>(map->primaries().size())},
                       {"slots_served", static_cast<std::int64_t>(map->covered())}});
        ++version_;
      }
      map_ = std::move(*map);
      ok_ = true;
      last_error.clear();
      break;
    }
    if (!last_error.empty() && !map_)
      ops::log_warn("cannot read the Redis Cluster's slot map", {{"error", last_error}});
    refreshing_ = false;
    refreshed_.cancel();
    refreshed_.expires_at(Clock::time_point::max());
  }

  void refresh_soon() {
    if (refreshing_ || closed_ || refresh_queued_) return;
    refresh_queued_ = true;
    auto self = shared_from_this();
    const auto wait =
        std::max(Clock::duration::zero(), last_refresh_ + kRefreshAtMostEvery - Clock::now());
    auto timer = std::make_shared<asio::steady_timer>(ex_, wait);
    timer->async_wait([self, timer](boost::system::error_code) {
      self->refresh_queued_ = false;
      asio::co_spawn(self->ex_, self->refresh(), asio::detached);
    });
  }

  std::optional<RedisEndpoint> target(std::optional<std::uint16_t> slot) const {
    if (!map_) return std::nullopt;
    if (slot) return map_->owner(*slot);
    if (map_->primaries().empty()) return std::nullopt;
    return map_->primaries().front();
  }

  void close() {
    closed_ = true;
    for (auto& [at, connection] : nodes_) connection->close();
    refreshed_.cancel();
  }

  asio::any_io_executor ex_;
  RedisOptions options_;
  std::optional<ClusterMap> map_;
  std::map<std::string, std::unique_ptr<RedisConnection>> nodes_;  // by "host:port"
  bool refreshing_ = false;
  bool refresh_queued_ = false;
  bool closed_ = false;
  Clock::time_point last_refresh_{};
  asio::steady_timer refreshed_;  // cancelled when a refresh ends: its waiters go on
  std::atomic<std::uint64_t> version_{0};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<bool> ok_{false};

 private:
  RedisConnection& node(const RedisEndpoint& at) {
    const std::string name = endpoint_text(at);
    auto it = nodes_.find(name);
    if (it == nodes_.end()) {
      it =
          nodes_.emplace(name, std::make_unique<RedisConnection>(ex_, options_.for_node(at))).first;
    }
    return *it->second;
  }

  bool differs(const ClusterMap& other) const {
    for (std::uint32_t s = 0; s < kClusterSlots; ++s)
      if (map_->owner(static_cast<std::uint16_t>(s)) != other.owner(static_cast<std::uint16_t>(s)))
        return true;
    return false;
  }

  static bool is_cluster_refusal(std::string_view error) {
    return error.starts_with("MOVED ") || error.starts_with("ASK ") ||
           error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
  }

  static std::string no_owner(std::optional<std::uint16_t> slot) {
    return slot ? "no Redis Cluster node serves slot " + std::to_string(*slot) + " now"
                : "no Redis Cluster node is known now";
  }
};

RedisCluster::RedisCluster(asio::any_io_executor ex, RedisOptions options)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(options))) {}

RedisCluster::~RedisCluster() { impl_->close(); }

asio::awaitable<core::Result<Reply>> RedisCluster::command(std::vector<std::string> args) {
  std::shared_ptr<Impl> impl = impl_;
  auto routed = co_await impl->route(args);
  co_return std::move(routed.reply);
}

asio::awaitable<core::Result<std::vector<Reply>>> RedisCluster::pipeline(
    std::vector<std::vector<std::string>> commands) {
  if (commands.empty()) co_return std::vector<Reply>{};
  std::shared_ptr<Impl> impl = impl_;
  co_return co_await impl->pipeline(commands);
}

bool RedisCluster::connected() const { return impl_->ok_.load(std::memory_order_relaxed); }

std::uint64_t RedisCluster::commands_sent() const {
  return impl_->sent_.load(std::memory_order_relaxed);
}

void RedisCluster::close() { impl_->close(); }

std::optional<RedisEndpoint> RedisCluster::owner(std::uint16_t slot) const {
  return impl_->target(slot);
}

std::optional<RedisEndpoint> RedisCluster::any_primary() const {
  return impl_->target(std::nullopt);
}

std::vector<RedisEndpoint> RedisCluster::primaries() const {
  return impl_->map_ ? impl_->map_->primaries() : std::vector<RedisEndpoint>{};
}

std::uint64_t RedisCluster::map_version() const { return impl_->version_.load(); }

void RedisCluster::refresh_soon() { impl_->refresh_soon(); }

asio::awaitable<void> RedisCluster::refresh() {
  std::shared_ptr<Impl> impl = impl_;
  co_await impl->refresh();
}

std::unique_ptr<RedisClient> make_redis_client(asio::any_io_executor ex, RedisOptions options) {
  if (options.cluster) return std::make_unique<RedisCluster>(std::move(ex), std::move(options));
  return std::make_unique<RedisConnection>(std::move(ex), std::move(options));
}

}  // namespace waitroom::store::redis
