#pragma once
// How long visitors waited (join → admission, whole seconds), as a histogram that merges: the
// minutes of a day's chart add up to its 5-, 30- and 60-minute points, and their percentiles
// come from the merged counts, never from averaging the minutes' percentiles.
//
// Buckets: waits below 16 s have one each (exact); above, every power of two is cut into 16
// buckets, so a bucket spans at most 1/16 of its lower bound. A percentile answers the middle of
// its bucket: at most 3.2 % from the true wait. Sparse (only buckets that hold a wait), sorted by
// bucket: a minute whose visitors waited alike costs a few bytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waitroom::core {

class WaitHistogram {
 public:
  void add(std::int64_t wait_s, std::uint64_t n = 1);
  void merge(const WaitHistogram& other);
  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  void clear() {
    buckets_.clear();
    count_ = 0;
  }
  // The wait that a share `q` (0 < q <= 1) of the visitors waited at most (nearest rank), to the
  // histogram's precision; nullopt when empty.
  std::optional<std::int64_t> percentile(double q) const;

  // As text for the history's minute lines: "BUCKET:COUNT,BUCKET:COUNT…" ("-" when empty).
  std::string encode() const;
  static std::optional<WaitHistogram> decode(std::string_view text);

  // The bucket of a wait, and the wait a bucket stands for (its middle).
  static std::uint16_t bucket_of(std::int64_t wait_s);
  static std::int64_t value_of(std::uint16_t bucket);

  bool operator==(const WaitHistogram&) const = default;

 private:
  std::vector<std::pair<std::uint16_t, std::uint64_t>> buckets_;  // (bucket, count), by bucket
  std::uint64_t count_ = 0;
};

}  // namespace waitroom::core
