#include "store/redis/redis_url.hpp"

#include <gtest/gtest.h>

namespace waitroom::store::redis {
namespace {

TEST(RedisUrl, DefaultsPortDatabaseAndPlainTcp) {
  auto url = parse_redis_url("redis://cache.internal");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->host, "cache.internal");
  EXPECT_EQ(url->port, 6379);
  EXPECT_EQ(url->db, 0);
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->username, "");
  EXPECT_EQ(url->password, "");
}

TEST(RedisUrl, ReadsEveryPartAndRedissMeansTls) {
  auto url = parse_redis_url("rediss://waitroom:s3cret@redis.example.com:6380/3");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->username, "waitroom");
  EXPECT_EQ(url->password, "s3cret");
  EXPECT_EQ(url->host, "redis.example.com");
  EXPECT_EQ(url->port, 6380);
  EXPECT_EQ(url->db, 3);
}

TEST(RedisUrl, PasswordWithoutUserAndSchemeInAnyCase) {
  auto url = parse_redis_url("REDIS://:pw@10.0.0.5:7000/");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->username, "");
  EXPECT_EQ(url->password, "pw");
  EXPECT_EQ(url->host, "10.0.0.5");
  EXPECT_EQ(url->port, 7000);
  EXPECT_EQ(url->db, 0);
}

TEST(RedisUrl, PercentDecodesUserAndPassword) {
  auto url = parse_redis_url("redis://us%65r:p%40ss%3Aw%2Fo%25rd@h");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->username, "user");
  EXPECT_EQ(url->password, "p@ss:w/o%rd");
  // An unencoded '@' in the password still parses: the last '@' ends the user information.
  auto raw = parse_redis_url("redis://:p@ss@h:1");
  ASSERT_TRUE(raw) << raw.error().detail;
  EXPECT_EQ(raw->password, "p@ss");
  EXPECT_EQ(raw->host, "h");
}

TEST(RedisUrl, Ipv6InBrackets) {
  auto url = parse_redis_url("redis://[::1]:7001/2");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 7001);
  EXPECT_EQ(url->db, 2);
  auto no_port = parse_redis_url("redis://[2001:db8::7]");
  ASSERT_TRUE(no_port) << no_port.error().detail;
  EXPECT_EQ(no_port->host, "2001:db8::7");
  EXPECT_EQ(no_port->port, 6379);
}

TEST(RedisUrl, EmptyHostMeansLoopback) {
  auto url = parse_redis_url("redis:///5");
  ASSERT_TRUE(url) << url.error().detail;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->db, 5);
}

void expect_refused(std::string_view text, std::string_view mentions) {
  auto url = parse_redis_url(text);
  ASSERT_FALSE(url) << text << " parsed";
  EXPECT_EQ(url.error().code, core::ErrorCode::bad_request) << text;
  EXPECT_NE(url.error().detail.find(mentions), std::string::npos)
      << text << ": " << url.error().detail;
}

TEST(RedisUrl, RefusesWhatIsNotARedisUrlAndSaysWhy) {
  expect_refused("http://localhost:6379", "redis://");
  expect_refused("localhost:6379", "redis://");
  expect_refused("redis://h:0", "port");
  expect_refused("redis://h:65536", "port");
  expect_refused("redis://h:abc", "port");
  expect_refused("redis://h:", "port");
  expect_refused("redis://h/x", "database");
  expect_refused("redis://h/-1", "database");
  expect_refused("redis://h/1/2", "database");
  expect_refused("redis://[::1", "']'");
  expect_refused("redis://[::1]x", "']'");
  expect_refused("redis://[nothost]:1", "IPv6");
  expect_refused("redis://::1:6379", "brackets");
  expect_refused("redis://ho st", "host");
  expect_refused("redis://:%zz@h", "password");
  expect_refused("redis://:abc%4@h", "password");
  expect_refused("redis://u%g1:pw@h", "user name");
  expect_refused("redis://secret@h", "':'");
  expect_refused("redis://h?db=1", "query");
}

TEST(RedisUrl, RedactedHidesThePasswordOnly) {
  auto url = parse_redis_url("rediss://waitroom:s3cret@[::1]:6380/3");
  ASSERT_TRUE(url);
  EXPECT_EQ(redacted(*url), "rediss://waitroom:***@[::1]:6380/3");
  auto plain = parse_redis_url("redis://h");
  ASSERT_TRUE(plain);
  EXPECT_EQ(redacted(*plain), "redis://h:6379/0");
  const std::string text = redacted(*parse_redis_url("redis://:hunter2@h"));
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text, "redis://:***@h:6379/0");
}

TEST(RedisUrl, ASeedListNamesEveryNodeOfACluster) {
  auto url = parse_redis_url("redis://:pw@10.0.0.1:7000,[::1]:7001,redis-c/0");
  ASSERT_TRUE(url) << url.error().detail;
  ASSERT_EQ(url->seeds.size(), 3u);
  EXPECT_EQ(url->seeds[0], (RedisEndpoint{"10.0.0.1", 7000}));
  EXPECT_EQ(url->seeds[1], (RedisEndpoint{"::1", 7001}));
  EXPECT_EQ(url->seeds[2], (RedisEndpoint{"redis-c", 6379}));
  EXPECT_EQ(url->host, "10.0.0.1");
  EXPECT_EQ(url->port, 7000);
  EXPECT_EQ(url->password, "pw");
  EXPECT_EQ(redacted(*url), "redis://:***@10.0.0.1:7000,[::1]:7001,redis-c:6379/0");
  EXPECT_EQ(parse_redis_url("redis://h:1")->seeds.size(), 1u);
  EXPECT_FALSE(parse_redis_url("redis://h:1,h:x"));
  EXPECT_FALSE(parse_redis_url("redis://h:1,,h:2"));
}

}  // namespace
}  // namespace waitroom::store::redis
