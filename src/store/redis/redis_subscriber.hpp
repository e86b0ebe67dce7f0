#pragma once
// A second connection to Redis, in SUBSCRIBE mode: it only listens, to the channels it was given
// (the rooms' serving-counter changes, DESIGN.md section 4). It keeps itself connected: after a
// failure it reconnects with the connection's back-off (50 ms doubling to 500 ms), logs in again
// and subscribes again. Messages published while it was away are lost (Redis keeps none), which is
// why on_connected fires after every (re)subscription: the store re-reads what it may have missed.
//
// Liveness: it PINGs (allowed in SUBSCRIBE mode) every 2 x command_timeout, at most every 5 s,
// and reconnects when a PING is still unanswered at the next one, so a connection that died
// without a word does not go quiet for good.
//
// Threading: every member function runs on the subscriber's executor (a strand or a
// single-threaded io_context), and so do the callbacks; connected() may be read from any thread.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class RedisSubscriber {
 public:
  // The views are valid during the call only.
  using OnMessage = std::function<void(std::string_view channel, std::string_view message)>;
  using OnConnected = std::function<void()>;  // after every (re)subscription: the store re-reads
                                              // what it may have missed
  RedisSubscriber(boost::asio::any_io_executor ex, RedisOptions options,
                  std::vector<std::string> channels, OnMessage on_message,
                  OnConnected on_connected);
  ~RedisSubscriber();  // stop()s
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // Sharded channels (SSUBSCRIBE, a Redis Cluster's rooms: each on the node serving its slot):
  // set before start(). `on_moved` runs when the node refuses a channel (MOVED) or drops it (its
  // slot moved away): the channel's node is to be found again (redis_cluster_subscriptions.hpp).
  void shard(std::function<void()> on_moved);
  // Subscribes to these channels instead, by a new session when they differ (a cluster's rooms
  // come and move).
  void set_channels(std::vector<std::string> channels);
  void start();  // runs until stop(); reconnects with the same back-off, re-AUTHs, re-SUBSCRIBEs
  void stop();   // no callback runs after it returns
  // True from the moment every channel's subscription was confirmed until the connection fails.
  bool connected() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;  // shared with the subscriber's own coroutines, which outlive this
};

}  // namespace waitroom::store::redis
