#pragma once
// What the Redis store's files share (redis_store.cpp: operations; redis_writer.cpp: the commit
// pipeline and the write lock; redis_sync.cpp: start-up, other nodes' changes and presence;
// redis_driver.cpp: the admission driver's lease). Not for use outside src/store/redis/.
#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/hex.hpp"
#include "core/room.hpp"
#include "engine/room_ops.hpp"

namespace waitroom::store::redis::internal {

using core::ErrorCode;
using core::fail;
using SteadyClock = std::chrono::steady_clock;
// A change holds the room's write lock for two round trips; a node paused longer loses it and
// its commit is refused. A busy node keeps it from one change to the next (no begin), trusting it
// for kLockMs - kLockMarginMs after sending the commit that kept it, and lets it go after
// kLockKeepIdle without a request, or soon after another node asks for it (docs/scaling.md).
// kLockMs is how long a node that dies holding the lock holds up the room's writes on the
// others; a dead driver's lock goes sooner, when another node takes the lease (the lease script).
inline constexpr std::int64_t kLockMs = 1500;
inline constexpr std::int64_t kLockMarginMs = 1000;
// The node that takes a lease over lets go of the last driver's lock only when that lock was not
// refreshed for this long: a dead driver's is older (at least kLeaseMs - kLeaseRenewEvery, 900 ms,
// when its lease is taken), while a live node writing the room refreshes its lock with every
// commit and lets it go 2 ms after its last: a driver whose lease lapsed while it still writes
// (its driver loop held up) keeps its lock, and its requests are not refused.
inline constexpr std::int64_t kStaleLockMs = 500;
// A holder trusts its lock no longer than a takeover leaves it alone: a live node never loses a
// lock it still commits under to a takeover (under load its let-go can come late; seen in CI as
// "lock lost" commits and reloads while a busy node's lease lapsed).
static_assert(kLockMs - kLockMarginMs <= kStaleLockMs);
inline constexpr auto kLockKeepIdle = std::chrono::microseconds(2000);
// A node that found the lock taken, or was asked for it, does not keep it for this long: rooms
// written on several nodes at once pass the lock round change by change (taken by begin, let go
// by commit), which costs fewer round trips than handing a kept lock over.
inline constexpr auto kContendedFor = std::chrono::milliseconds(200);
// How long a node waits for a room's write lock held by others before it answers 503.
inline constexpr auto kLockWait = std::chrono::milliseconds(3000);
// The driver's lease: renewed several times within its life, so a slow round trip does not lose
// it, and short, so another node takes over within about 1.3 s of a driver's death: the lease
// runs out 0.9-1.2 s after it (it was renewed at most one renewal before), and the others ask
// every kLeaseRetry, which the driver loop's step (store::kAdmissionStepMs, 100 ms, plus the
// step's own time) rounds up to one step. The takeover also lets go of the dead driver's write
// lock, so the room's writes wait no longer than that either.
inline constexpr std::int64_t kLeaseMs = 1200;
inline constexpr auto kLeaseRenewEvery = std::chrono::milliseconds(300);
inline constexpr auto kLeaseRetry = std::chrono::milliseconds(100);
// This node stops driving this long before Redis would let the lease go: it drives for 900 ms
// after sending a renewal, time for its next two.
inline constexpr std::int64_t kLeaseMarginMs = 300;
// Enqueues (and other changes) arriving within this window of the first share one commit.
inline constexpr auto kGatherWindow = std::chrono::microseconds(1000);
inline constexpr auto kGatherStep = std::chrono::microseconds(200);
inline constexpr std::size_t kGatherEnough = 32;
// Commits of one room a node may have in flight under its kept lock: while one is answered the
// node gathers and decides the next.
inline constexpr int kMaxInFlight = 2;
// Records per commit: Lua's unpack() takes a few thousand arguments at most.
inline constexpr std::size_t kMaxBatch = 500;
inline constexpr std::int64_t kLoadChunk = 10000;
inline constexpr std::int64_t kRetryAfterS = 1;
// A room stopped by a record it cannot read waits for an operator: its clients are asked to come
// back after this long, and its log is read again at most this often.
inline constexpr std::int64_t kStoppedRetryAfterS = 30;
inline constexpr auto kRecheckStopped = std::chrono::seconds(10);

// Until when this node trusts a lock that Redis took or kept for kLockMs on a script sent at
// `sent`.
inline SteadyClock::time_point lock_trusted_until(SteadyClock::time_point sent) {
  return sent + std::chrono::milliseconds(kLockMs - kLockMarginMs);
}

inline core::Error unknown_room(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no room named \"" + room + "\"", 0};
}

inline core::Error unavailable(std::string_view why) {
  return core::Error{ErrorCode::unavailable, "the store cannot reach Redis: " + std::string(why),
                     kRetryAfterS};
}

inline std::string random_node_id() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  return core::lower_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

inline std::optional<std::uint64_t> to_uint(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

inline std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    const auto space = s.find(' ');
    parts.push_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return parts;
}

}  // namespace waitroom::store::redis::internal
