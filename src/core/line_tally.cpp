#include "core/line_tally.hpp"

#include <algorithm>

namespace waitroom::core {

namespace {
std::uint64_t lowbit(std::uint64_t i) { return i & (~i + 1); }
}  // namespace

void LineTally::add(std::uint64_t rank) {
  if (rank == 0) return;
  const std::uint64_t node = (rank - 1) / kBlock + 1;
  // The tree grows to the block as the line does: a new node covers blocks that are all known
  // already, apart from its own (still 0).
  while (tree_.size() < node) {
    const std::uint64_t i = tree_.size() + 1;
    tree_.push_back(before(i - 1) - before(i - lowbit(i)));
  }
  for (std::uint64_t i = node; i <= tree_.size(); i += lowbit(i)) ++tree_[i - 1];
}

std::uint64_t LineTally::before(std::uint64_t end) const {
  std::uint64_t sum = 0;
  for (std::uint64_t i = std::min<std::uint64_t>(end, tree_.size()); i > 0; i -= lowbit(i))
    sum += tree_[i - 1];
  return sum;
}

std::uint64_t LineTally::in_blocks(std::uint64_t first, std::uint64_t end) const {
  return end > first ? before(end) - before(first) : 0;
}

}  // namespace waitroom::core
