#include "core/draw.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "core/hex.hpp"

namespace waitroom::core {

namespace {

std::string to_hex(const std::uint8_t* data, std::size_t n) {
  return lower_hex(std::string_view(reinterpret_cast<const char*>(data), n));
}

// The seed-determined stream of 64-bit numbers.
class SeedStream {
 public:
  explicit SeedStream(const Seed& seed) : seed_(seed) {}
  std::uint64_t next() {
    if (used_ == 4) refill();
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | block_[used_ * 8 + static_cast<std::size_t>(i)];
    ++used_;
    return v;
  }
  // Uniform in [0, bound) by rejection, so no value is favoured.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t limit =
        UINT64_MAX - (UINT64_MAX % bound + 1) % bound;  // 2^64 - (2^64 mod bound) - 1
    for (;;) {
      const std::uint64_t v = next();
      if (v <= limit) return v % bound;
    }
  }

 private:
  void refill() {
    std::uint8_t input[40];
    std::copy(seed_.begin(), seed_.end(), input);
    for (int i = 0; i < 8; ++i) input[32 + i] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * i));
    ++counter_;
    SHA256(input, sizeof input, block_.data());
    used_ = 0;
  }
  Seed seed_;
  std::array<std::uint8_t, 32> block_{};
  std::size_t used_ = 4;
  std::uint64_t counter_ = 0;
};
}  // namespace

Seed new_seed() {
  Seed seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1)
    throw std::runtime_error("the system's random source failed");
  return seed;
}

std::string seed_hex(const Seed& seed) { return to_hex(seed.data(), seed.size()); }

std::optional<Seed> seed_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Seed seed{};
  for (std::size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (char c : hex.substr(i * 2, 2)) {
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return std::nullopt;
    }
    seed[i] = static_cast<std::uint8_t>(v);
  }
  return seed;
}

std::string commitment_hex(const Seed& seed) {
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(seed.data(), seed.size(), digest);
  return to_hex(digest, sizeof digest);
}

std::vector<std::uint64_t> draw_order(const Seed& seed, std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> order;
  if (last < first) return order;
  order.reserve(last - first + 1);
  for (std::uint64_t p = first; p <= last; ++p) order.push_back(p);
  SeedStream stream(seed);
  for (std::size_t i = order.size() - 1; i >= 1; --i)
    std::swap(order[i], order[stream.below(i + 1)]);
  return order;
}

}  // namespace waitroom::core
