#include "store/redis/redis_record.hpp"

#include <cstring>
#include <variant>

#include "store/crc32c.hpp"

namespace waitroom::store::redis {

namespace {
std::string hex(std::uint32_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) s += kHex[(v >> shift) & 15];
  return s;
}
}  // namespace

// Records written from now on are sealed; a new kind of record would otherwise be taken for a
// legacy one only if its tag were at most kLastLegacyType, which it is not.
static_assert(std::variant_size_v<engine::LogRecord> >= kLastLegacyType);

std::string seal_record(std::string_view payload) {
  const std::uint32_t crc = crc32c(payload);  // little-endian, as the embedded log's
  std::string out;
  out.reserve(kSealBytes + payload.size());
  out.push_back(static_cast<char>(kSealedV1));
  out.append(reinterpret_cast<const char*>(&crc), sizeof crc);
  out.append(payload);
  return out;
}

core::Result<std::string_view> unseal_record(std::string_view stored) {
  if (stored.empty()) return core::fail(core::ErrorCode::internal, "an empty record");
  const auto first = static_cast<unsigned char>(stored[0]);
  if (first != kSealedV1) {
    if (first >= 1 && first <= kLastLegacyType) return stored;  // written by an older version
    return core::fail(core::ErrorCode::internal,
                      "an unknown first byte " + hex(first, 2) +
                          " (neither a sealed record nor one of an older version)");
  }
  if (stored.size() <= kSealBytes)
    return core::fail(core::ErrorCode::internal, "a sealed record too short to hold a payload");
  std::uint32_t want = 0;
  std::memcpy(&want, stored.data() + 1, sizeof want);
  const std::string_view payload = stored.substr(kSealBytes);
  if (const std::uint32_t got = crc32c(payload); got != want)
    return core::fail(core::ErrorCode::internal, "a checksum mismatch (stored " + hex(want, 8) +
                                                     ", computed " + hex(got, 8) + ")");
  return payload;
}

core::Result<engine::LogRecord> read_record(std::string_view stored) {
  auto payload = unseal_record(stored);
  if (!payload) return std::unexpected(payload.error());
  auto record = engine::decode_record(*payload);
  if (!record)  // intact, yet not a record this version knows: written by a newer one?
    return core::fail(core::ErrorCode::internal,
                      "a record this version cannot read (" + record.error().detail + ")");
  return record;
}

}  // namespace waitroom::store::redis
