#pragma once
#include <cstdint>
#include <string_view>

namespace waitroom::store {

// CRC-32C (Castagnoli) of `data`: guards each record of the embedded log (embedded/log_format.hpp)
// and of the Redis store's room logs (redis/redis_record.hpp) against torn writes and bit rot.
std::uint32_t crc32c(std::string_view data);
// Continues a finished CRC-32C over more bytes: crc32c_extend(crc32c(a), b) == crc32c(a + b).
std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data);

}  // namespace waitroom::store
