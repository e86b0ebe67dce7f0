#include "token/constant_time.hpp"

#include <gtest/gtest.h>

#include <string>

namespace waitroom::token {
namespace {

TEST(ConstantTimeEqual, ComparesEveryByte) {
  const std::string pass(611, 'a');
  EXPECT_TRUE(constant_time_equal(pass, pass));
  EXPECT_TRUE(constant_time_equal("", ""));
  for (std::size_t i : {std::size_t{0}, std::size_t{7}, std::size_t{8}, std::size_t{300},
                        std::size_t{607}, std::size_t{610}}) {
    std::string other = pass;
    other[i] = 'b';
    EXPECT_FALSE(constant_time_equal(pass, other)) << i;
  }
}

TEST(ConstantTimeEqual, DifferentLengthsDiffer) {
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

}  // namespace
}  // namespace waitroom::token
