#pragma once
// How to reach Redis and how long to wait for it; shared by the connections and subscribers.
#include <chrono>
#include <string>

#include "store/redis/redis_url.hpp"

namespace waitroom::store::redis {

struct RedisOptions {
  RedisUrl url;
  std::string tls_ca_file;  // rediss://: CA bundle to verify the server (empty: system default
                            // paths); the host name is verified too
  std::chrono::milliseconds connect_timeout{1000};  // resolve + TCP connect + TLS handshake
  std::chrono::milliseconds command_timeout{2000};  // a reply, counted from the command's call
  // A Redis Cluster (several seeds in the URL, or redis_cluster = true): commands go to the node
  // serving their key's slot (redis_cluster.hpp).
  bool cluster = false;
  // Each commit of a room waits until this many replicas hold it (WAIT) before it is answered.
  int wait_replicas = 0;

  // The same, for one node of the cluster (its connections and subscribers).
  RedisOptions for_node(const RedisEndpoint& at) const {
    RedisOptions one = *this;
    one.url.host = at.host;
    one.url.port = at.port;
    one.url.seeds = {at};
    one.cluster = false;
    return one;
  }
};

}  // namespace waitroom::store::redis
