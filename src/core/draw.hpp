#pragma once
// The auditable shuffle of a pre-queue (docs/fairness.md). When the pre-queue opens, Waitroom
// draws a secret 32-byte seed and publishes SHA-256(seed) as a commitment; when the event starts
// it publishes the seed, and the admission order of the pre-queue's positions is this function
// of the seed alone, so anyone can recompute it (`waitroom verify-shuffle`) and check that the
// seed matches the commitment made before any visitor arrived.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace waitroom::core {

using Seed = std::array<std::uint8_t, 32>;

Seed new_seed();  // from the OS's CSPRNG
std::string seed_hex(const Seed& seed);
std::optional<Seed> seed_from_hex(std::string_view hex);
// Lowercase hex SHA-256 of the seed's 32 bytes.
std::string commitment_hex(const Seed& seed);

// Positions first..last in the order they are admitted: a Fisher-Yates shuffle (i from n-1 down
// to 1, swap i with j uniform in [0, i]) whose random numbers are the big-endian u64s of
// SHA-256(seed || counter as big-endian u64) for counter = 0, 1, 2, ..., four per block; a draw
// for [0, i] rejects values >= 2^64 - (2^64 mod (i + 1)) and takes the next one.
std::vector<std::uint64_t> draw_order(const Seed& seed, std::uint64_t first, std::uint64_t last);

}  // namespace waitroom::core
