#include "core/hex.hpp"

#include <openssl/sha.h>

namespace waitroom::core {

std::string lower_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return lower_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace waitroom::core
