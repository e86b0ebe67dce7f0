#include "app/verify_shuffle.hpp"

#include <fstream>
#include <iostream>
#include <unordered_set>
#include <vector>

#include "core/draw.hpp"

namespace waitroom::app {

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
    for (std::uint64_t p : order) std::cout << p << "\n";
    return 0;
  }
  // The served order is the drawn order with the visitors who left (skipped) taken out.
  std::ifstream in(*o.served);
  if (!in) {
    std::cerr << "verify-shuffle: cannot read " << o.served->string() << "\n";
    return 2;
  }
  std::vector<std::uint64_t> served;
  for (std::uint64_t p = 0; in >> p;)
    if (p >= o.first && p <= o.last) served.push_back(p);
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
  std::cerr << "verify-shuffle: OK: " << served.size() << " admissions of positions " << o.first
            << ".." << o.last << " follow the drawn order\n";
  return 0;
}

}  // namespace waitroom::app
