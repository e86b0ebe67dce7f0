#include "http/query.hpp"

#include <gtest/gtest.h>

namespace waitroom::http {
namespace {

TEST(Query, DecodesTheFirstMatchingParameter) {
  EXPECT_EQ(query_param("event_id=demo&request_id=abc", "request_id"), "abc");
  EXPECT_EQ(query_param("a=1&a=2", "a"), "1");
  EXPECT_EQ(query_param("x=a+b%21", "x"), "a b!");
  EXPECT_EQ(query_param("flag&y=1", "flag"), "");
}

TEST(Query, AbsentOrMalformed) {
  EXPECT_EQ(query_param("", "a"), std::nullopt);
  EXPECT_EQ(query_param("b=1", "a"), std::nullopt);
  EXPECT_EQ(query_param("a=%zz", "a"), std::nullopt);
  EXPECT_EQ(query_param("a=%4", "a"), std::nullopt);
  EXPECT_EQ(query_param("a=%41", "a"), "A");
}

}  // namespace
}  // namespace waitroom::http
