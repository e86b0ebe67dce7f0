#pragma once
// Which Redis Cluster slot a command goes to: the slot of its first key (CRC16 of the key, or of
// the part between the first '{' and the next '}' when that is not empty), as Redis's own
// keyHashSlot computes it. A room's keys all carry the tag {room}, so its scripts touch one slot.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waitroom::store::redis {

inline constexpr std::uint16_t kClusterSlots = 16384;

std::uint16_t key_slot(std::string_view key);

// The key that decides where `args` runs: EVAL/EVALSHA's first key, SPUBLISH's channel, the first
// argument of a keyed command; nullopt for commands that touch no key (PING, PUBLISH, WAIT, a
// script without keys...), which any node answers.
std::optional<std::string_view> command_key(const std::vector<std::string>& args);

}  // namespace waitroom::store::redis
