#pragma once
// `waitroom verify-shuffle`: recomputes a pre-queue's admission order from its published seed
// (docs/fairness.md), checks the seed against the commitment, and compares with a served order.
// For a drawing it also says who won and the waitlist, and checks that no more were let in than
// the winners and the turns passed on.
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
  std::optional<std::filesystem::path> served;     // positions in served order, one per line
  std::optional<std::uint64_t> winners;            // a drawing's
  std::optional<std::filesystem::path> unclaimed;  // positions whose turn ran out unclaimed
};

// Prints the order (one position per line; with `winners`, each followed by a tab and "won" or
// "waitlist n") unless `served` is given; returns 0 when every check passes, 1 when one fails,
// 2 on bad input.
int verify_shuffle(const VerifyShuffleOptions& options);

}  // namespace waitroom::app
