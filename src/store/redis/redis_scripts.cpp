#include "store/redis/redis_scripts.hpp"

#include <openssl/sha.h>

#include <cstdio>

namespace waitroom::store::redis {

namespace {

// KEYS: log, lock, wanted. ARGV: token, lock_ms, from (records the node has applied), node id,
// the node's previous token (its own lock from its last change is replaced).
// Returns {1, length, records since from...}, or {0, lock's pttl} when another node holds the
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
local len = redis.call('LLEN', KEYS[1])
local out = {1, len}
if len > tonumber(ARGV[3]) then
  local recs = redis.call('LRANGE', KEYS[1], ARGV[3], -1)
  for i = 1, #recs do out[#out + 1] = recs[i] end
end
return out
)lua";

// KEYS: log, lock, driver, wanted. ARGV: token, expected length, fence (node id or ""), channel,
// "ROOM NODE", keep_ms, records... Returns {1, new length, kept} or {0, why}; publishes
// "ROOM NODE LENGTH". With keep_ms > 0 the node keeps the lock for its next changes (which then
// need no begin, and may be sent before this one's answer); when another node has asked for it,
// the lock lives 200 ms more for the commits already behind this one, and kept is 0: the
// node sends no more under it and lets it go (its next begin or its unlock).
constexpr std::string_view kCommit = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0, 'lock lost'} end
local len = redis.call('LLEN', KEYS[1])
if len ~= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[2])
  return {0, 'log moved'}
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  redis.call('DEL', KEYS[2])
  return {0, 'not the driver'}
end
if #ARGV > 6 then
  len = redis.call('RPUSH', KEYS[1], unpack(ARGV, 7))
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. len)
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

// KEYS: lock. ARGV: token. Lets a kept write lock go (its holder has nothing more to write).
constexpr std::string_view kUnlock = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// KEYS: driver. ARGV: node id, lease_ms. Returns 1 when the node holds the lease now.
constexpr std::string_view kLease = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
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

boost::asio::awaitable<core::Result<Reply>> run_script(RedisConnection& redis, const Script& script,
                                                       std::vector<std::string> keys,
                                                       std::vector<std::string> args) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.emplace_back("EVALSHA");
  command.emplace_back(script.sha1);
  command.emplace_back(std::to_string(keys.size()));
  for (auto& k : keys) command.push_back(std::move(k));
  for (auto& a : args) command.push_back(std::move(a));
  auto evalsha_op = redis.command(command);
  auto first = co_await std::move(evalsha_op);
  if (!first || !first->is_error() || !first->str.starts_with("NOSCRIPT")) co_return first;
  command[0] = "EVAL";
  command[1] = std::string(script.source);
  auto eval_op = redis.command(std::move(command));
  co_return co_await std::move(eval_op);
}

}  // namespace waitroom::store::redis
