#include "verify/pass_cache.hpp"

#include <algorithm>

namespace waitroom::verify::detail {

PassCache::PassCache(std::size_t capacity)
    : shard_count_(std::clamp<std::size_t>(capacity, 1, kMaxShards)),
      shard_capacity_(capacity == 0 ? 0 : (capacity + shard_count_ - 1) / shard_count_) {}

PassCache::Shard& PassCache::shard_for(std::string_view pass) {
  // The low bits pick the bucket inside the shard's map; take the shard from the high ones.
  const std::size_t h = Hash{}(pass);
  return shards_[(h >> (sizeof(std::size_t) * 8 - 8)) % shard_count_];
}

std::shared_ptr<const Claims> PassCache::find(std::string_view pass, std::int64_t now_s) {
  if (shard_capacity_ == 0) return nullptr;
  Shard& shard = shard_for(pass);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(pass);
  if (it == shard.entries.end()) return nullptr;
  if (it->second.keep_until_s < now_s) {
    shard.entries.erase(it);
    return nullptr;
  }
  ++shard.hits;
  return it->second.claims;
}

// Called with the shard locked and full. Dropping expired entries costs a pass over the shard,
// so it runs at most once a second; otherwise one random entry goes (a random bucket, then the
// next non-empty one: the load factor is at most 1, so that is a few steps).
void PassCache::make_room(Shard& shard, std::int64_t now_s) {
  if (shard.last_sweep_s != now_s) {
    shard.last_sweep_s = now_s;
    std::erase_if(shard.entries,
                  [now_s](const auto& kv) { return kv.second.keep_until_s < now_s; });
    if (shard.entries.size() < shard_capacity_) return;
  }
  const std::size_t buckets = shard.entries.bucket_count();
  std::size_t b = std::uniform_int_distribution<std::size_t>(0, buckets - 1)(shard.random);
  while (shard.entries.bucket_size(b) == 0) b = (b + 1) % buckets;
  shard.entries.erase(shard.entries.begin(b)->first);
}

void PassCache::insert(std::string_view pass, std::shared_ptr<const Claims> claims,
                       std::int64_t keep_until_s, std::int64_t now_s, std::uint64_t epoch) {
  if (shard_capacity_ == 0 || keep_until_s < now_s) return;
  Shard& shard = shard_for(pass);
  std::lock_guard lock(shard.mutex);
  if (epoch_.load(std::memory_order_seq_cst) != epoch) return;  // the key set changed meanwhile
  if (shard.entries.contains(pass)) return;  // another thread verified it at the same time
  if (shard.entries.size() >= shard_capacity_) make_room(shard, now_s);
  shard.entries.emplace(std::string(pass), Entry{std::move(claims), keep_until_s});
}

void PassCache::clear() {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    shards_[i].entries.clear();
  }
}

std::size_t PassCache::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].entries.size();
  }
  return n;
}

std::uint64_t PassCache::hits() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].hits;
  }
  return n;
}

}  // namespace waitroom::verify::detail
