#pragma once
// The Lua scripts that make each change of a room atomic in Redis (docs/scaling.md). Every change
// of a room is decided by the node that holds the room's write lock on a copy of the room that is
// up to date with the log, and appended under that lock; the scripts are the whole protocol:
//
//   begin   takes the room's write lock (SET PX) and returns the records the node has not
//           applied yet, so its copy is exactly the log when it decides; when another node holds
//           the lock it asks for it (a short-lived "wanted" key).
//   commit  appends the change's records only while the node still holds the lock and the log
//           has the length the node decided on (a node paused past the lock's expiry is fenced
//           out), optionally only while it holds the room's driver lease, and publishes the new
//           length. It keeps the lock for the node's next changes (one round trip per change
//           while a room is busy on one node, and commits may follow each other before their
//           answers) unless asked not to (the node has seen other nodes write the room
//           lately: then the lock goes round change by change) or another node wants it.
//   read    the records a copy lacks, without the lock (a sync, a node's start).
//   compact replaces a room's list by its snapshot, under the write lock and at the length the
//           snapshot was taken at; indexes count on from the dropped records (`base`).
//   unlock  lets a kept lock go when its holder has nothing more to write.
//   lease   takes or renews the admission driver's lease, and on taking over a lease that ran
//           out lets go of the last driver's write lock if it went stale (a dead driver's lock
//           does not hold the room up past the takeover); release lets the lease go (a graceful
//           stop, so another node drives at once rather than after the lease's expiry).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "store/redis/redis_client.hpp"

namespace waitroom::store::redis {

struct Script {
  std::string_view source;
  std::string sha1;  // hex, for EVALSHA
};

const Script& begin_script();
const Script& commit_script();
const Script& read_script();
const Script& compact_script();
const Script& unlock_script();
const Script& lease_script();
const Script& release_script();

// EVALSHA, and EVAL when Redis does not know the script (after a restart or a failover). With
// wait_replicas > 0, a WAIT follows the script in the same round trip on the same connection, so
// its writes are on that many replicas when it is answered; when fewer confirm within
// wait_timeout the reply is an error reply "NOREPLICAS ..." (as Redis's own min-replicas), and the
// script's writes may or may not survive a failover.
boost::asio::awaitable<core::Result<Reply>> run_script(
    RedisClient& redis, const Script& script, std::vector<std::string> keys,
    std::vector<std::string> args, int wait_replicas = 0,
    std::chrono::milliseconds wait_timeout = std::chrono::milliseconds(1000));

}  // namespace waitroom::store::redis
