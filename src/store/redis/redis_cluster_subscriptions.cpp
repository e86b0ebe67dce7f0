#include "store/redis/redis_cluster_subscriptions.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "store/redis/redis_slots.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;

ClusterSubscriptions::ClusterSubscriptions(asio::any_io_executor ex, RedisOptions options,
                                           RedisCluster& cluster, std::vector<std::string> channels,
                                           RedisSubscriber::OnMessage on_message,
                                           std::function<void(const std::string&)> on_subscribed)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      cluster_(cluster),
      channels_(std::move(channels)),
      on_message_(std::move(on_message)),
      on_subscribed_(std::move(on_subscribed)) {}

ClusterSubscriptions::~ClusterSubscriptions() { stop(); }

void ClusterSubscriptions::start() {
  running_ = true;
  place(true);
}

void ClusterSubscriptions::stop() {
  running_ = false;
  *alive_ = false;
  if (global_) global_->stop();
  for (auto& [at, s] : shards_) s->stop();
  global_.reset();
  shards_.clear();
  shard_channels_.clear();
}

void ClusterSubscriptions::add_sharded(std::string channel) {
  if (!sharded_.insert(std::move(channel)).second || !running_) return;
  place(true);
}

void ClusterSubscriptions::follow_map() {
  if (running_) place(false);
}

bool ClusterSubscriptions::connected() const { return global_ && global_->connected(); }

void ClusterSubscriptions::place(bool force) {
  const std::uint64_t version = cluster_.map_version();
  if (!force && version == version_seen_) return;
  version_seen_ = version;
  // The deployment-wide channels stay where they are while that node serves slots.
  const auto primaries = cluster_.primaries();
  if (!global_ || !global_at_ ||
      std::find(primaries.begin(), primaries.end(), *global_at_) == primaries.end()) {
    if (auto at = cluster_.any_primary()) {
      if (global_) global_->stop();
      global_at_ = *at;
      global_ = subscriber_at(*at, channels_, false);
    }
  }
  std::map<std::string, std::vector<std::string>> wanted;
  std::map<std::string, RedisEndpoint> where;
  bool unplaced = false;
  for (const std::string& channel : sharded_) {
    auto at = cluster_.owner(key_slot(channel));
    if (!at) {
      unplaced = true;
      continue;
    }
    const std::string name = endpoint_text(*at);
    wanted[name].push_back(channel);
    where.emplace(name, *at);
  }
  for (auto it = shards_.begin(); it != shards_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    it->second->stop();
    shard_channels_.erase(it->first);
    it = shards_.erase(it);
  }
  for (auto& [name, channels] : wanted) {
    auto& listening = shard_channels_[name];
    if (listening == channels) continue;
    listening = channels;
    auto it = shards_.find(name);
    if (it == shards_.end())
      shards_.emplace(name, subscriber_at(where.at(name), channels, true));
    else
      it->second->set_channels(channels);
  }
  if (unplaced) cluster_.refresh_soon();
}

std::unique_ptr<RedisSubscriber> ClusterSubscriptions::subscriber_at(
    const RedisEndpoint& at, std::vector<std::string> channels, bool sharded) {
  RedisSubscriber::OnConnected on_connected;
  if (sharded)
    on_connected = [this, alive = alive_, name = endpoint_text(at)] {
      if (!*alive) return;
      for (const std::string& channel : shard_channels_[name]) on_subscribed_(channel);
    };
  auto s = std::make_unique<RedisSubscriber>(ex_, options_.for_node(at), std::move(channels),
                                             on_message_, std::move(on_connected));
  if (sharded) {
    // A channel moved or refused: read the map, then follow it.
    s->shard([this, alive = alive_] {
      if (!*alive) return;
      asio::co_spawn(
          ex_,
          [this, alive]() -> asio::awaitable<void> {
            co_await cluster_.refresh();
            if (*alive) follow_map();
          },
          asio::detached);
    });
  }
  s->start();
  return s;
}

}  // namespace waitroom::store::redis
