#pragma once
// Comparing secrets without leaking where they differ, eight bytes at a time: the gate compares
// every presented pass (about 600 bytes) with the issued one, and OpenSSL's CRYPTO_memcmp goes a
// byte at a time (it was 2% of the gate's CPU).
#include <cstdint>
#include <cstring>
#include <string_view>

namespace waitroom::token {

// Whether a and b are equal. Only their lengths may show in the time taken.
inline bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  std::uint64_t diff = 0;
  std::size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    diff |= x ^ y;
    asm volatile("" : "+r"(diff));  // no early exit once diff is non-zero
  }
  for (; i < a.size(); ++i) diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace waitroom::token
