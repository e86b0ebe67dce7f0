#include "store/redis/redis_slots.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace waitroom::store::redis {

namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as the Redis Cluster specification
// defines it.
constexpr std::array<std::uint16_t, 256> make_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrcTable = make_table();

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char c : bytes)
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

bool is(std::string_view name, std::string_view upper) {
  return name.size() == upper.size() &&
         std::equal(name.begin(), name.end(), upper.begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

std::uint16_t key_slot(std::string_view key) {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) & (kClusterSlots - 1));
}

std::optional<std::string_view> command_key(const std::vector<std::string>& args) {
  if (args.size() < 2) return std::nullopt;
  const std::string_view name = args[0];
  if (is(name, "EVAL") || is(name, "EVALSHA") || is(name, "EVAL_RO") || is(name, "EVALSHA_RO")) {
    if (args.size() < 4) return std::nullopt;
    unsigned keys = 0;
    const std::string& n = args[2];
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), keys);
    if (ec != std::errc{} || keys == 0) return std::nullopt;
    return std::string_view(args[3]);
  }
  for (std::string_view keyless : {"PUBLISH", "PING", "WAIT", "INFO", "CLUSTER", "SCRIPT", "AUTH",
                                   "SELECT", "HELLO", "ASKING", "ECHO"})
    if (is(name, keyless)) return std::nullopt;
  return std::string_view(args[1]);
}

}  // namespace waitroom::store::redis
