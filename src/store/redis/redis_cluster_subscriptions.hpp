#pragma once
// A Redis Cluster's subscriptions (docs/scaling.md, "Redis Cluster"): each room's changes come
// on its own shard channel (SPUBLISH by its commit), heard by an SSUBSCRIBE on the node serving
// the room's slot, so a room's pushes stay on its shard; the deployment-wide channels (presence,
// health, new rooms) by a SUBSCRIBE on any one primary (the cluster passes PUBLISH to every
// node). When the slot map changes (a failover, a reshard), or a node drops or refuses a channel,
// the channels move to the nodes serving them now. Each (re)subscription of a node's channels
// calls on_subscribed for each of them, and the store reads those rooms' logs again, as after
// any lost subscription (what was published meanwhile is lost); a lost deployment-wide channel
// costs only a new room heard of at the store's next refresh.
//
// Threading: on the cluster client's executor, as RedisSubscriber.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/redis/redis_cluster.hpp"
#include "store/redis/redis_subscriber.hpp"

namespace waitroom::store::redis {

class ClusterSubscriptions {
 public:
  ClusterSubscriptions(boost::asio::any_io_executor ex, RedisOptions options, RedisCluster& cluster,
                       std::vector<std::string> channels, RedisSubscriber::OnMessage on_message,
                       std::function<void(const std::string& channel)> on_subscribed);
  ~ClusterSubscriptions();  // stop()s

  void start();
  void stop();
  // Listens to a shard channel (a room's) on the node serving its slot.
  void add_sharded(std::string channel);
  // Moves channels to the nodes the slot map names now, if it changed since the last look (the
  // store calls it every second; a moved channel calls it at once after reading the map).
  void follow_map();
  // True while the deployment-wide channels are subscribed.
  bool connected() const;

 private:
  std::unique_ptr<RedisSubscriber> subscriber_at(const RedisEndpoint& at,
                                                 std::vector<std::string> channels, bool sharded);
  void place(bool force);

  boost::asio::any_io_executor ex_;
  RedisOptions options_;
  RedisCluster& cluster_;
  std::vector<std::string> channels_;
  RedisSubscriber::OnMessage on_message_;
  std::function<void(const std::string& channel)> on_subscribed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for callbacks after stop()
  bool running_ = false;
  std::uint64_t version_seen_ = ~std::uint64_t{0};
  std::set<std::string> sharded_;
  std::optional<RedisEndpoint> global_at_;
  std::unique_ptr<RedisSubscriber> global_;
  std::map<std::string, std::unique_ptr<RedisSubscriber>> shards_;  // by "host:port"
  std::map<std::string, std::vector<std::string>> shard_channels_;  // what each listens to
};

}  // namespace waitroom::store::redis
