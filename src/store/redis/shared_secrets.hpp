#pragma once
// Every node of one deployment must sign and check alike: ticket ids, resume links and
// proof-of-work challenges use the data dir's secret, passes the key ring. With the Redis store
// the first node to start publishes its secret and keys in Redis, and every node (that one
// included) writes what Redis holds into its data dir before it opens them. Redis then holds
// signing keys: keep it private (AUTH, TLS, a private network; docs/scaling.md).
#include <filesystem>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

// Blocks until done (start-up only). Returns how this node's files relate to the shared ones:
// true when they were replaced by another node's.
core::Result<bool> share_secrets(const RedisOptions& options, const RedisKeys& keys,
                                 const std::filesystem::path& data_dir, const core::Clock& clock);

// After `waitroom keys rotate` or the admin API's rotation on one node: publishes that node's
// key files so nodes that start later take them (running nodes read them on SIGHUP after
// share_secrets has written them; docs/scaling.md).
core::Result<void> publish_secrets(const RedisOptions& options, const RedisKeys& keys,
                                   const std::filesystem::path& data_dir);

}  // namespace waitroom::store::redis
