#pragma once
// How to reach Redis and how long to wait for it; shared by RedisConnection and RedisSubscriber.
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
};

}  // namespace waitroom::store::redis
