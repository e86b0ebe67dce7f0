#include "token/algorithm.hpp"

#include <gtest/gtest.h>

namespace waitroom::token {
namespace {

TEST(Algorithm, ParsesExactNames) {
  EXPECT_EQ(parse_algorithm("ES256"), Algorithm::ES256);
  EXPECT_EQ(parse_algorithm("RS256"), Algorithm::RS256);
  EXPECT_FALSE(parse_algorithm("es256").has_value());
  EXPECT_FALSE(parse_algorithm("HS256").has_value());
  EXPECT_FALSE(parse_algorithm("none").has_value());
  EXPECT_FALSE(parse_algorithm("ES256 ").has_value());
  EXPECT_FALSE(parse_algorithm("").has_value());
}

TEST(Algorithm, NamesRoundTrip) {
  for (const Algorithm alg : kAllAlgorithms) EXPECT_EQ(parse_algorithm(algorithm_name(alg)), alg);
}

}  // namespace
}  // namespace waitroom::token
