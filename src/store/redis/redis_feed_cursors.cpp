#include "store/redis/redis_feed_cursors.hpp"

#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::int64_t kLeaseMs = 10'000;
// Counted from before the request, less a margin: this node stops before Redis lets the lease go.
constexpr auto kLeaseMargin = std::chrono::milliseconds(2'000);
constexpr auto kRenewEvery = std::chrono::milliseconds(3'000);
constexpr auto kRetryEvery = std::chrono::milliseconds(1'000);

// KEYS: positions. ARGV: room, seq, room, seq... Raises each room's position, never lowers it.
constexpr std::string_view kSavePositions = R"lua(
redis.call('HSET', KEYS[1], '', '1')
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1
)lua";

core::Result<void> refused(const Reply& reply) {
  return core::fail(core::ErrorCode::unavailable, "Redis: " + reply.str);
}
}  // namespace

RedisFeedCursors::RedisFeedCursors(RedisOptions options, RedisKeys keys)
    : keys_(std::move(keys)), node_(internal::random_node_id()), redis_(std::move(options)) {}

RedisFeedCursors::~RedisFeedCursors() {
  std::vector<std::vector<std::string>> release;
  for (const auto& [id, lease] : leases_)
    if (lease.until > Clock::now())
      release.push_back(
          {"EVAL", std::string(release_script().source), "1", keys_.webhook_lease(id), node_});
  if (!release.empty()) (void)redis_.pipeline(std::move(release));
}

core::Result<std::optional<ops::FeedPositions>> RedisFeedCursors::load(const std::string& reader) {
  auto replies = redis_.pipeline({{"HGETALL", keys_.webhook_positions(ops::reader_id(reader))}});
  if (!replies) return std::unexpected(replies.error());
  const Reply& r = replies->front();
  if (r.is_error()) return std::unexpected(refused(r).error());
  if (r.elements.empty()) return std::nullopt;  // never saved
  ops::FeedPositions positions;
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    if (r.elements[i].str.empty()) continue;  // the "saved" mark
    auto seq = internal::to_uint(r.elements[i + 1].str);
    if (!seq)
      return core::fail(core::ErrorCode::internal,
                        "Redis: a webhook position is not a number: " + r.elements[i + 1].str);
    positions[r.elements[i].str] = *seq;
  }
  return positions;
}

core::Result<void> RedisFeedCursors::save(const std::string& reader,
                                          const ops::FeedPositions& positions) {
  std::vector<std::string> command{"EVAL", std::string(kSavePositions), "1",
                                   keys_.webhook_positions(ops::reader_id(reader))};
  for (const auto& [room, seq] : positions) {
    command.push_back(room);
    command.push_back(std::to_string(seq));
  }
  auto replies = redis_.pipeline({std::move(command)});
  if (!replies) return std::unexpected(replies.error());
  if (replies->front().is_error()) return refused(replies->front());
  return {};
}

bool RedisFeedCursors::lead(const std::string& reader) {
  const std::string id = ops::reader_id(reader);
  std::lock_guard lock(mu_);
  Lease& lease = leases_[id];
  const auto now = Clock::now();
  if (now < lease.renew_at) return now < lease.until;
  auto replies = redis_.pipeline({{"EVAL", std::string(lease_script().source), "1",
                                   keys_.webhook_lease(id), node_, std::to_string(kLeaseMs)}});
  const bool held =
      replies && replies->front().type == Reply::Type::integer && replies->front().integer == 1;
  lease.until =
      held ? now + std::chrono::milliseconds(kLeaseMs) - kLeaseMargin : Clock::time_point{};
  lease.renew_at = now + (held ? kRenewEvery : kRetryEvery);
  return held;
}

}  // namespace waitroom::store::redis
