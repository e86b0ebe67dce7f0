#pragma once
// Which primary serves each of a Redis Cluster's 16,384 slots, as `CLUSTER SLOTS` tells it.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "store/redis/redis_reply.hpp"
#include "store/redis/redis_slots.hpp"
#include "store/redis/redis_url.hpp"

namespace waitroom::store::redis {

class ClusterMap {
 public:
  // From a CLUSTER SLOTS reply got from `asked` (a node that announces no address of its own is
  // reached where it was asked). Fails when the reply is not that shape or serves no slot.
  static core::Result<ClusterMap> parse(const Reply& slots, const RedisEndpoint& asked);

  // The primary serving `slot`; nullopt when none does (a cluster missing a shard).
  std::optional<RedisEndpoint> owner(std::uint16_t slot) const;
  // After a MOVED: `slot` is served by `endpoint` now.
  void set_owner(std::uint16_t slot, const RedisEndpoint& endpoint);
  // Every primary that serves a slot, each once.
  const std::vector<RedisEndpoint>& primaries() const { return primaries_; }
  std::size_t covered() const;

 private:
  static constexpr std::uint16_t kNobody = 0xffff;
  std::uint16_t index_of(const RedisEndpoint& endpoint);
  std::vector<RedisEndpoint> primaries_;
  std::array<std::uint16_t, kClusterSlots> owners_{};  // index into primaries_, or kNobody
};

// "MOVED 3999 127.0.0.1:6381" / "ASK ..." → the slot and where to go; nullopt for other errors.
struct Redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  RedisEndpoint to;
};
std::optional<Redirect> parse_redirect(std::string_view error);

}  // namespace waitroom::store::redis
