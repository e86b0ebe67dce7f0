#pragma once
// How many places of a line were given up, by rank (line order): a ticket's place is given up
// when it stops waiting (admitted, or its visitor left). The estimate counts the visitors still
// waiting ahead of a ticket with it, so that the places of visitors who left cost nothing
// (docs/admission.md, "Estimates").
//
// Counts are kept per block of kBlock ranks in a Fenwick tree: 8 bytes per 64 tickets, and the
// given-up places before any block in O(log n). The places inside a block are the caller's to
// look at (the room's ticket slots say it).
#include <cstdint>
#include <vector>

namespace waitroom::core {

class LineTally {
 public:
  static constexpr std::uint64_t kBlock = 64;

  // The ticket at `rank` (from 1) stopped waiting. Each rank is to be added once.
  void add(std::uint64_t rank);
  void clear() { tree_.clear(); }
  // Places given up in the blocks [first, end) (block b holds ranks b*kBlock+1 .. (b+1)*kBlock).
  std::uint64_t in_blocks(std::uint64_t first, std::uint64_t end) const;

 private:
  // Places given up in blocks [0, end).
  std::uint64_t before(std::uint64_t end) const;

  std::vector<std::uint64_t> tree_;  // tree_[i - 1]: Fenwick node i over the blocks
};

}  // namespace waitroom::core
