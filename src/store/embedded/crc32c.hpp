#pragma once
#include <cstdint>
#include <string_view>

namespace waitroom::store {

// CRC-32C (Castagnoli) of `data`: guards each log record against torn writes and bit rot.
std::uint32_t crc32c(std::string_view data);

}  // namespace waitroom::store
