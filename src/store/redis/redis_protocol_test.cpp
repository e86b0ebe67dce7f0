#include "store/redis/redis_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace waitroom::store::redis {
namespace {

TEST(RedisProtocol, WritesCommandsAsArraysOfBulkStrings) {
  std::string out;
  const std::vector<std::string> set{"SET", "k", std::string("a\0\r\n", 4)};
  append_command(out, set);
  const std::vector<std::string> ping{"PING"};
  append_command(out, ping);
  constexpr char kExpected[] =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\0\r\n\r\n*1\r\n$4\r\nPING\r\n";
  EXPECT_EQ(out, std::string(kExpected, sizeof kExpected - 1));
}

TEST(RedisProtocol, ReadsRepliesFedInPieces) {
  ReplyReader reader;
  const std::string bytes = "+OK\r\n:42\r\n$-1\r\n-ERR no\r\n*2\r\n$3\r\nabc\r\n*1\r\n:7\r\n";
  std::vector<Reply> replies;
  for (char c : bytes) {  // one byte at a time: every reply is split at every possible point
    reader.feed(std::string_view(&c, 1));
    Reply r;
    auto got = reader.next(r);
    ASSERT_TRUE(got) << got.error().detail;
    if (*got) replies.push_back(std::move(r));
  }
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[0].type, Reply::Type::status);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1].type, Reply::Type::integer);
  EXPECT_EQ(replies[1].integer, 42);
  EXPECT_EQ(replies[2].type, Reply::Type::nil);
  EXPECT_TRUE(replies[3].is_error());
  EXPECT_EQ(replies[3].str, "ERR no");
  ASSERT_EQ(replies[4].type, Reply::Type::array);
  ASSERT_EQ(replies[4].elements.size(), 2u);
  EXPECT_EQ(replies[4].elements[0].str, "abc");
  ASSERT_EQ(replies[4].elements[1].elements.size(), 1u);
  EXPECT_EQ(replies[4].elements[1].elements[0].integer, 7);
  Reply none;
  auto more = reader.next(none);
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
}

TEST(RedisProtocol, BytesThatAreNotRespFail) {
  ReplyReader reader;
  reader.feed("?what\r\n");
  Reply r;
  auto got = reader.next(r);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().detail.find("protocol error"), std::string::npos) << got.error().detail;
}

}  // namespace
}  // namespace waitroom::store::redis
