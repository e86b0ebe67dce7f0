#include "store/redis/redis_scripts.hpp"

#include <openssl/sha.h>

#include <cstdio>

namespace waitroom::store::redis {

namespace {

// KEYS: log, lock, wanted, base (optional: 0). ARGV: token, lock_ms, from (records the node has
// applied), node id, the node's previous token (its own lock from its last change is replaced).
// Lengths and indexes count the records a compaction dropped from the list's head (`base`), so
// they never go back. Returns {1, length, records since from...} (since the snapshot at `base`
// when `from` is below it: they end at `length`), or {0, lock's pttl} when another node holds the
// lock; then this node asks for it ("wanted", 50 ms): a holder keeping the lock lets it go at its
// next commit. A node that finds the lock free takes it (as fast as the lock can go round; a
// waiting node retries after 0.2 ms, doubling up to 20 ms).
constexpr std::string_view kBegin = R"lua(
local cur = redis.call('GET', KEYS[2])
if cur and cur == ARGV[5] then
  redis.call('DEL', KEYS[2])
  cur = false
end
if cur then
  redis.call('SET', KEYS[3], ARGV[4], 'PX', 50)
  return {0, redis.call('PTTL', KEYS[2])}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
local base = 0
if KEYS[4] then base = tonumber(redis.call('GET', KEYS[4]) or '0') end
local len = base + redis.call('LLEN', KEYS[1])
local from = math.max(tonumber(ARGV[3]), base)
local out = {1, len}
if len > from then
  local recs = redis.call('LRANGE', KEYS[1], from - base, -1)
  for i = 1, #recs do out[#out + 1] = recs[i] end
end
return out
)lua";

// KEYS: log, lock, driver, wanted, base (optional). ARGV: token, expected length, fence (node id or
// ""), channel, "ROOM NODE", keep_ms, records... Returns {1, new length, kept} or {0, why};
// publishes "ROOM NODE LENGTH" (SPUBLISH on a room's own channel, in a Redis Cluster). With
// keep_ms > 0 the node keeps the lock for its next changes (which then need no begin, and may be
// sent before this one's answer); when another node has asked for it, the lock lives 200 ms more
// for the commits already behind this one, and kept is 0: the node sends no more under it and lets
// it go (its next begin or its unlock).
constexpr std::string_view kCommit = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0, 'lock lost'} end
local base = 0
if KEYS[5] then base = tonumber(redis.call('GET', KEYS[5]) or '0') end
local len = base + redis.call('LLEN', KEYS[1])
if len ~= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[2])
  return {0, 'log moved'}
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  redis.call('DEL', KEYS[2])
  return {0, 'not the driver'}
end
if #ARGV > 6 then
  len = base + redis.call('RPUSH', KEYS[1], unpack(ARGV, 7))
  -- A room's own channel (in a Redis Cluster, braced by its tag) stays on the room's shard.
  if string.find(ARGV[4], '{', 1, true) then
    redis.call('SPUBLISH', ARGV[4], ARGV[5] .. ' ' .. len)
  else
    redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. len)
  end
end
if ARGV[6] == '0' then
  redis.call('DEL', KEYS[2])
  return {1, len, 0}
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('PEXPIRE', KEYS[2], 200)
  return {1, len, 0}
end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {1, len, 1}
)lua";

// KEYS: log, base. ARGV: from, count (0: to the end). Returns {length, first, records...}: the
// records from index `from`, or from the snapshot at `base` when `from` is below it (then first
// is base, and the snapshot stands for every record before it).
constexpr std::string_view kRead = R"lua(
local base = tonumber(redis.call('GET', KEYS[2]) or '0')
local len = base + redis.call('LLEN', KEYS[1])
local from = math.max(tonumber(ARGV[1]), base)
local out = {len, from}
if len > from then
  local last = -1
  if tonumber(ARGV[2]) > 0 then last = from - base + tonumber(ARGV[2]) - 1 end
  local recs = redis.call('LRANGE', KEYS[1], from - base, last)
  for i = 1, #recs do out[#out + 1] = recs[i] end
end
return out
)lua";

// KEYS: log, lock, base. ARGV: token, expected length, the room's snapshot record. Under the
// write lock, while the log has the length the node's copy was taken at, the list becomes the
// snapshot alone, at index length - 1 (it stands for every record up to there): the length, and
// so every node's count of applied records, stays as it was. Returns {1, length, dropped} or
// {0, why}. UNLINK frees the old list outside the script.
constexpr std::string_view kCompact = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0, 'lock lost'} end
local base = tonumber(redis.call('GET', KEYS[3]) or '0')
local llen = redis.call('LLEN', KEYS[1])
local len = base + llen
if len ~= tonumber(ARGV[2]) then return {0, 'log moved'} end
if llen == 0 then return {0, 'empty log'} end
redis.call('UNLINK', KEYS[1])
redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('SET', KEYS[3], len - 1)
return {1, len, llen - 1}
)lua";

// KEYS: lock. ARGV: token. Lets a kept write lock go (its holder has nothing more to write).
constexpr std::string_view kUnlock = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// KEYS: driver, driver_was and lock (both optional: a webhook's lease has neither). ARGV: node id,
// lease_ms, and with the lock: stale_pttl. Returns 1 when the node holds the lease now. A node
// that takes a lease that ran out presumes its last holder (driver_was) dead, and lets go of the
// room's write lock if that node holds it (its tokens are "NODE:n") and has not refreshed it
// lately (at most stale_pttl left: a node busy with the room refreshes it with every commit), so a
// dead driver's lock does not hold up the room's writes longer than the takeover. A holder that
// was only paused is still fenced: its commits find the lock gone or taken by another token, or
// the log longer. A node taking back a lease that ran out in its own hands keeps its lock.
constexpr std::string_view kLease = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if KEYS[2] then
  local was = redis.call('GET', KEYS[2])
  if was and was ~= ARGV[1] and KEYS[3] then
    local lock = redis.call('GET', KEYS[3])
    if lock and string.sub(lock, 1, #was + 1) == was .. ':' and
        redis.call('PTTL', KEYS[3]) <= tonumber(ARGV[3]) then
      redis.call('DEL', KEYS[3])
    end
  end
  redis.call('SET', KEYS[2], ARGV[1])
end
return 1
)lua";

// KEYS: driver. ARGV: node id. Lets the lease go if this node holds it (a graceful stop).
constexpr std::string_view kRelease = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

Script make(std::string_view source) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source.data()), source.size(), digest);
  std::string hex(2 * SHA_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(&hex[2 * i], 3, "%02x", digest[i]);
  return Script{source, std::move(hex)};
}

}  // namespace

const Script& begin_script() {
  static const Script s = make(kBegin);
  return s;
}
const Script& commit_script() {
  static const Script s = make(kCommit);
  return s;
}
const Script& read_script() {
  static const Script s = make(kRead);
  return s;
}
const Script& compact_script() {
  static const Script s = make(kCompact);
  return s;
}
const Script& unlock_script() {
  static const Script s = make(kUnlock);
  return s;
}
const Script& lease_script() {
  static const Script s = make(kLease);
  return s;
}
const Script& release_script() {
  static const Script s = make(kRelease);
  return s;
}

namespace {

// The script's reply, and the WAIT's judged: fewer replicas than asked is NOREPLICAS.
core::Result<Reply> replicated(core::Result<std::vector<Reply>> replies, int wait_replicas,
                               std::chrono::milliseconds wait_timeout) {
  if (!replies) return std::unexpected(replies.error());
  if (replies->size() != 2) return core::fail(core::ErrorCode::internal, "Redis: no WAIT reply");
  Reply& script = replies->front();
  const Reply& wait = replies->back();
  if (script.is_error()) return std::move(script);
  if (wait.type != Reply::Type::integer || wait.integer < wait_replicas)
    return Reply{Reply::Type::error,
                 0,
                 "NOREPLICAS the change reached " +
                     (wait.type == Reply::Type::integer ? std::to_string(wait.integer)
                                                        : "an error: " + wait.str) +
                     " of the " + std::to_string(wait_replicas) + " replicas asked for within " +
                     std::to_string(wait_timeout.count()) + " ms",
                 {}};
  return std::move(script);
}

}  // namespace

boost::asio::awaitable<core::Result<Reply>> run_script(RedisClient& redis, const Script& script,
                                                       std::vector<std::string> keys,
                                                       std::vector<std::string> args,
                                                       int wait_replicas,
                                                       std::chrono::milliseconds wait_timeout) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.emplace_back("EVALSHA");
  command.emplace_back(script.sha1);
  command.emplace_back(std::to_string(keys.size()));
  for (auto& k : keys) command.push_back(std::move(k));
  for (auto& a : args) command.push_back(std::move(a));
  if (wait_replicas > 0) {
    const std::vector<std::string> wait{"WAIT", std::to_string(wait_replicas),
                                        std::to_string(wait_timeout.count())};
    std::vector<std::vector<std::string>> with_wait{command, wait};
    auto evalsha_op = redis.pipeline(std::move(with_wait));
    auto first = replicated(co_await std::move(evalsha_op), wait_replicas, wait_timeout);
    if (!first || !first->is_error() || !first->str.starts_with("NOSCRIPT")) co_return first;
    command[0] = "EVAL";
    command[1] = std::string(script.source);
    std::vector<std::vector<std::string>> eval_with_wait{std::move(command), wait};
    auto eval_op = redis.pipeline(std::move(eval_with_wait));
    co_return replicated(co_await std::move(eval_op), wait_replicas, wait_timeout);
  }
  auto evalsha_op = redis.command(command);
  auto first = co_await std::move(evalsha_op);
  if (!first || !first->is_error() || !first->str.starts_with("NOSCRIPT")) co_return first;
  command[0] = "EVAL";
  command[1] = std::string(script.source);
  auto eval_op = redis.command(std::move(command));
  co_return co_await std::move(eval_op);
}

}  // namespace waitroom::store::redis
