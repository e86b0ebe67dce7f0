#include "store/redis/redis_slots.hpp"

#include <gtest/gtest.h>

namespace waitroom::store::redis {
namespace {

// Values from the Redis Cluster specification and `CLUSTER KEYSLOT` of redis-server 7.0.
TEST(RedisSlotsTest, KeySlotsAreRedisOwn) {
  EXPECT_EQ(key_slot("123456789"), 0x31C3 & 16383);  // the specification's CRC16 check value
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(RedisSlotsTest, TheFirstNonEmptyTagDecides) {
  EXPECT_EQ(key_slot("waitroom:{sale}:log"), key_slot("sale"));
  EXPECT_EQ(key_slot("other:{sale}:lock"), key_slot("waitroom:{sale}:log"));
  EXPECT_EQ(key_slot("a{}b"), key_slot("a{}b"));
  EXPECT_NE(key_slot("a{}b"), key_slot(""));  // an empty tag: the whole key counts
  EXPECT_EQ(key_slot("{}{x}"), key_slot("{}{x}"));
  EXPECT_NE(key_slot("{}{x}"), key_slot("x"));  // only the first '{' counts
  EXPECT_EQ(key_slot("x{y"), key_slot("x{y"));  // no '}': the whole key
  EXPECT_NE(key_slot("x{y"), key_slot("y"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
}

TEST(RedisSlotsTest, CommandsAreRoutedByTheirFirstKey) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(command_key(Args{"GET", "k"}), "k");
  EXPECT_EQ(command_key(Args{"evalsha", "abc", "2", "k1", "k2", "arg"}), "k1");
  EXPECT_EQ(command_key(Args{"EVAL", "return 1", "0"}), std::nullopt);
  EXPECT_EQ(command_key(Args{"SPUBLISH", "ch", "m"}), "ch");
  EXPECT_EQ(command_key(Args{"PUBLISH", "ch", "m"}), std::nullopt);
  EXPECT_EQ(command_key(Args{"WAIT", "1", "100"}), std::nullopt);
  EXPECT_EQ(command_key(Args{"PING"}), std::nullopt);
}

}  // namespace
}  // namespace waitroom::store::redis
