#include "core/line_tally.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace waitroom::core {
namespace {

TEST(LineTally, CountsTheRanksAddedInWholeBlocks) {
  LineTally tally;
  constexpr std::uint64_t kB = LineTally::kBlock;
  tally.add(1);
  tally.add(kB);      // the last rank of block 0
  tally.add(kB + 1);  // the first of block 1
  tally.add(5 * kB + 3);
  EXPECT_EQ(tally.in_blocks(0, 1), 2u);
  EXPECT_EQ(tally.in_blocks(1, 2), 1u);
  EXPECT_EQ(tally.in_blocks(0, 6), 4u);
  EXPECT_EQ(tally.in_blocks(2, 5), 0u);
  EXPECT_EQ(tally.in_blocks(5, 100), 1u);  // blocks past the last added count nothing
  EXPECT_EQ(tally.in_blocks(3, 3), 0u);
  tally.clear();
  EXPECT_EQ(tally.in_blocks(0, 6), 0u);
}

TEST(LineTally, AgreesWithCountingOneByOne) {
  // Ranks added in any order (a sweep ahead of the serving counter, admissions behind it) as the
  // line grows; every range of blocks checked against a plain count.
  std::mt19937_64 rng(5);
  constexpr std::uint64_t kRanks = 3000;
  std::vector<std::uint64_t> ranks(kRanks);
  for (std::uint64_t r = 0; r < kRanks; ++r) ranks[r] = r + 1;
  std::shuffle(ranks.begin(), ranks.end(), rng);
  ranks.resize(kRanks / 3);
  LineTally tally;
  std::vector<std::uint64_t> per_block(kRanks / LineTally::kBlock + 1, 0);
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    tally.add(ranks[i]);
    ++per_block[(ranks[i] - 1) / LineTally::kBlock];
    if (i % 97 != 0) continue;
    for (std::uint64_t first = 0; first < per_block.size(); first += 3)
      for (std::uint64_t end = first; end <= per_block.size(); end += 5) {
        std::uint64_t want = 0;
        for (std::uint64_t b = first; b < end; ++b) want += per_block[b];
        ASSERT_EQ(tally.in_blocks(first, end), want) << first << ".." << end << " after " << i;
      }
  }
}

}  // namespace
}  // namespace waitroom::core
