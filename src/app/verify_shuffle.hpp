#pragma once
// `waitroom verify-shuffle`: recomputes a pre-queue's admission order from its published seed
// (docs/fairness.md), checks the seed against the commitment, and compares with a served order.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace waitroom::app {

struct VerifyShuffleOptions {
  std::string seed;  // hex, as GET /v1/rooms/{room}/draws publishes it
  std::optional<std::string> commitment;
  std::uint64_t first = 0;  // shuffled_first
  std::uint64_t last = 0;
  std::optional<std::filesystem::path> served;  // positions in served order, one per line
};

// Prints the order (one position per line) unless `served` is given; returns 0 when every check
// passes, 1 when one fails, 2 on bad input.
int verify_shuffle(const VerifyShuffleOptions& options);

}  // namespace waitroom::app
