#pragma once
// Passes whose signature has been verified, keyed by the whole pass text, so that checking the
// same pass again (every request of an admitted visitor) is one hash lookup. Only the signature
// and the decoding are cached: the caller re-checks the claims against its expectation and the
// clock on every hit.
//
// Sharded (a mutex per shard) so that many threads rarely meet; bounded (entries past their
// keep-until time go first, then random ones); emptied when the key set loses or changes a key.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "waitroom/verify.hpp"

namespace waitroom::verify::detail {

class PassCache {
 public:
  // At most about `capacity` entries (0: the cache is off).
  explicit PassCache(std::size_t capacity);

  // The claims of a cached pass, or null. An entry found past its keep-until time is dropped.
  std::shared_ptr<const Claims> find(std::string_view pass, std::int64_t now_s);

  // Read before taking the key set a pass is verified with; insert() ignores the entry if
  // clear() ran in between, so a pass verified by a key just removed is never cached.
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_seq_cst); }

  void insert(std::string_view pass, std::shared_ptr<const Claims> claims,
              std::int64_t keep_until_s, std::int64_t now_s, std::uint64_t epoch);

  void clear();

  std::size_t size() const;
  std::uint64_t hits() const;

 private:
  struct Entry {
    std::shared_ptr<const Claims> claims;
    std::int64_t keep_until_s;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry, Hash, Equal> entries;
    std::uint64_t hits = 0;
    std::int64_t last_sweep_s = 0;
    std::minstd_rand random{0x5eed};
  };
  static constexpr std::size_t kMaxShards = 16;

  Shard& shard_for(std::string_view pass);
  void make_room(Shard& shard, std::int64_t now_s);

  std::size_t shard_count_;
  std::size_t shard_capacity_;
  std::array<Shard, kMaxShards> shards_;
  std::atomic<std::uint64_t> epoch_{0};
};

}  // namespace waitroom::verify::detail
