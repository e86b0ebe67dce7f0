#include "app/verify_shuffle.hpp"

#include <fstream>
#include <iostream>
#include <unordered_set>
#include <vector>

#include "core/draw.hpp"

namespace waitroom::app {

namespace {
// The positions first..last a file lists, in its order (other numbers are not the draw's).
std::optional<std::vector<std::uint64_t>> read_positions(const std::filesystem::path& path,
                                                         std::uint64_t first, std::uint64_t last) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "verify-shuffle: cannot read " << path.string() << "\n";
    return std::nullopt;
  }
  std::vector<std::uint64_t> out;
  for (std::uint64_t p = 0; in >> p;)
    if (p >= first && p <= last) out.push_back(p);
  return out;
}
}  // namespace

int verify_shuffle(const VerifyShuffleOptions& o) {
  auto seed = core::seed_from_hex(o.seed);
  if (!seed) {
    std::cerr << "verify-shuffle: --seed must be 64 hex digits\n";
    return 2;
  }
  if (o.first == 0 || o.last < o.first) {
    std::cerr << "verify-shuffle: need 1 <= --first <= --last\n";
    return 2;
  }
  if (o.winners && *o.winners == 0) {
    std::cerr << "verify-shuffle: --winners must be at least 1\n";
    return 2;
  }
  if (o.unclaimed && !(o.winners && o.served)) {
    std::cerr << "verify-shuffle: --unclaimed goes with --winners and --served\n";
    return 2;
  }
  if (o.commitment) {
    const std::string actual = core::commitment_hex(*seed);
    if (actual != *o.commitment) {
      std::cerr << "verify-shuffle: FAIL: SHA-256(seed) is " << actual
                << ", not the published commitment " << *o.commitment << "\n";
      return 1;
    }
    std::cerr << "verify-shuffle: the seed matches the commitment\n";
  }
  const std::vector<std::uint64_t> order = core::draw_order(*seed, o.first, o.last);
  if (!o.served) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      std::cout << order[i];
      if (o.winners && i < *o.winners) std::cout << "\twon";
      if (o.winners && i >= *o.winners) std::cout << "\twaitlist " << i - *o.winners + 1;
      std::cout << "\n";
    }
    return 0;
  }
  // The served order is the drawn order with the visitors who left (skipped) taken out.
  const auto read = read_positions(*o.served, o.first, o.last);
  if (!read) return 2;
  const std::vector<std::uint64_t>& served = *read;
  const std::unordered_set<std::uint64_t> present(served.begin(), served.end());
  std::size_t i = 0;
  for (std::uint64_t p : order) {
    if (!present.contains(p)) continue;
    if (i >= served.size() || served[i] != p) {
      std::cerr << "verify-shuffle: FAIL: admission " << i + 1 << " of the pre-queue was position "
                << (i < served.size() ? std::to_string(served[i]) : "none") << ", the draw says "
                << p << "\n";
      return 1;
    }
    ++i;
  }
  if (o.winners) {
    // Each admission past the winners must stand for a turn that ran out unclaimed.
    std::uint64_t passed_on = 0;
    if (o.unclaimed) {
      const auto unclaimed = read_positions(*o.unclaimed, o.first, o.last);
      if (!unclaimed) return 2;
      for (std::uint64_t p :
           std::unordered_set<std::uint64_t>(unclaimed->begin(), unclaimed->end()))
        if (present.contains(p)) ++passed_on;
    }
    if (served.size() > *o.winners + passed_on) {
      std::cerr << "verify-shuffle: FAIL: " << served.size() << " of the drawing were let in, "
                << "more than its " << *o.winners << " winners and the " << passed_on
                << " turns that ran out unclaimed\n";
      return 1;
    }
    std::cerr << "verify-shuffle: OK: " << served.size() << " admissions of positions " << o.first
              << ".." << o.last << " follow the drawn order, within its " << *o.winners
              << " winners and the " << passed_on << " turns that ran out unclaimed\n";
    return 0;
  }
  std::cerr << "verify-shuffle: OK: " << served.size() << " admissions of positions " << o.first
            << ".." << o.last << " follow the drawn order\n";
  return 0;
}

}  // namespace waitroom::app
