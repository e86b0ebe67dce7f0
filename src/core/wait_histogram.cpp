#include "core/wait_histogram.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace waitroom::core {

namespace {

constexpr std::uint64_t kSubBits = 4;             // 16 buckets per power of two
constexpr std::uint64_t kExact = 1U << kSubBits;  // waits below this have a bucket each
// Waits are 32-bit seconds (core::TicketSlot): the last bucket is that of 2^32 - 1.
constexpr std::uint16_t kMaxBucket =
    static_cast<std::uint16_t>(kExact + (32 - kSubBits - 1) * kExact + (kExact - 1));

}  // namespace

std::uint16_t WaitHistogram::bucket_of(std::int64_t wait_s) {
  const std::uint64_t v =
      static_cast<std::uint64_t>(std::clamp<std::int64_t>(wait_s, 0, UINT32_MAX));
  if (v < kExact) return static_cast<std::uint16_t>(v);
  const std::uint64_t shift = static_cast<std::uint64_t>(std::bit_width(v)) - 1 - kSubBits;
  const std::uint64_t sub = (v >> shift) & (kExact - 1);
  return static_cast<std::uint16_t>(kExact + shift * kExact + sub);
}

std::int64_t WaitHistogram::value_of(std::uint16_t bucket) {
  if (bucket < kExact) return bucket;
  const std::uint64_t shift = (bucket - kExact) / kExact;
  const std::uint64_t sub = (bucket - kExact) % kExact;
  const std::uint64_t low = (kExact + sub) << shift;
  const std::uint64_t width = std::uint64_t{1} << shift;
  return static_cast<std::int64_t>(low + (width - 1) / 2);
}

void WaitHistogram::add(std::int64_t wait_s, std::uint64_t n) {
  if (n == 0) return;
  const std::uint16_t b = bucket_of(wait_s);
  count_ += n;
  // Admissions of one step wait alike, so the last bucket touched is the likely one.
  if (!buckets_.empty() && buckets_.back().first == b) {
    buckets_.back().second += n;
    return;
  }
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), b,
                             [](const auto& e, std::uint16_t key) { return e.first < key; });
  if (it != buckets_.end() && it->first == b)
    it->second += n;
  else
    buckets_.insert(it, {b, n});
}

void WaitHistogram::merge(const WaitHistogram& other) {
  if (other.empty()) return;
  if (empty()) {
    *this = other;
    return;
  }
  std::vector<std::pair<std::uint16_t, std::uint64_t>> out;
  out.reserve(buckets_.size() + other.buckets_.size());
  auto a = buckets_.begin();
  auto b = other.buckets_.begin();
  while (a != buckets_.end() || b != other.buckets_.end()) {
    if (b == other.buckets_.end() || (a != buckets_.end() && a->first < b->first)) {
      out.push_back(*a++);
    } else if (a == buckets_.end() || b->first < a->first) {
      out.push_back(*b++);
    } else {
      out.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  buckets_ = std::move(out);
  count_ += other.count_;
}

std::optional<std::int64_t> WaitHistogram::percentile(double q) const {
  if (empty()) return std::nullopt;
  const double wanted = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_));
  const std::uint64_t rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (const auto& [bucket, n] : buckets_) {
    seen += n;
    if (seen >= rank) return value_of(bucket);
  }
  return value_of(buckets_.back().first);
}

std::string WaitHistogram::encode() const {
  if (empty()) return "-";
  std::string out;
  for (const auto& [bucket, n] : buckets_) {
    if (!out.empty()) out += ',';
    out += std::to_string(bucket);
    out += ':';
    out += std::to_string(n);
  }
  return out;
}

std::optional<WaitHistogram> WaitHistogram::decode(std::string_view text) {
  WaitHistogram h;
  if (text == "-") return h;
  auto number = [](std::string_view s, auto& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
  };
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    const std::string_view entry = text.substr(at, comma - at);
    const std::size_t colon = entry.find(':');
    std::uint16_t bucket = 0;
    std::uint64_t n = 0;
    if (colon == std::string_view::npos || !number(entry.substr(0, colon), bucket) ||
        !number(entry.substr(colon + 1), n) || bucket > kMaxBucket || n == 0)
      return std::nullopt;
    // Written in bucket order; anything else is not one of ours.
    if (!h.buckets_.empty() && h.buckets_.back().first >= bucket) return std::nullopt;
    h.buckets_.emplace_back(bucket, n);
    h.count_ += n;
    at = comma + 1;
  }
  return h;
}

}  // namespace waitroom::core
