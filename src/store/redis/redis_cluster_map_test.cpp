#include "store/redis/redis_cluster_map.hpp"

#include <gtest/gtest.h>

namespace waitroom::store::redis {
namespace {

Reply integer(long long v) { return Reply{Reply::Type::integer, v, {}, {}}; }
Reply text(std::string s) { return Reply{Reply::Type::string, 0, std::move(s), {}}; }
Reply array(std::vector<Reply> e) { return Reply{Reply::Type::array, 0, {}, std::move(e)}; }
Reply range(long long first, long long last, std::string host, long long port) {
  return array({integer(first), integer(last),
                array({text(std::move(host)), integer(port), text("id")}),
                array({text("10.0.0.9"), integer(7009), text("replica")})});
}

TEST(ClusterMapTest, ReadsWhoServesEachSlot) {
  auto map =
      ClusterMap::parse(array({range(0, 5460, "10.0.0.1", 7001), range(5461, 10922, "", 7002),
                               range(10923, 16383, "10.0.0.3", 7003)}),
                        RedisEndpoint{"10.0.0.2", 7002});
  ASSERT_TRUE(map) << map.error().detail;
  EXPECT_EQ(map->covered(), 16384u);
  EXPECT_EQ(map->primaries().size(), 3u);
  EXPECT_EQ(map->owner(0), (RedisEndpoint{"10.0.0.1", 7001}));
  EXPECT_EQ(map->owner(5461), (RedisEndpoint{"10.0.0.2", 7002}));  // "" is where it was asked
  EXPECT_EQ(map->owner(16383), (RedisEndpoint{"10.0.0.3", 7003}));
  map->set_owner(16383, RedisEndpoint{"10.0.0.4", 7004});
  EXPECT_EQ(map->owner(16383), (RedisEndpoint{"10.0.0.4", 7004}));
  EXPECT_EQ(map->owner(16382), (RedisEndpoint{"10.0.0.3", 7003}));
}

TEST(ClusterMapTest, AMissingShardLeavesItsSlotsWithoutOwner) {
  auto map = ClusterMap::parse(array({range(0, 99, "h", 1)}), RedisEndpoint{"h", 1});
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered(), 100u);
  EXPECT_EQ(map->owner(100), std::nullopt);
}

TEST(ClusterMapTest, RefusesWhatIsNotASlotMap) {
  const RedisEndpoint at{"h", 1};
  EXPECT_FALSE(ClusterMap::parse(Reply{Reply::Type::error,
                                       0,
                                       "ERR This instance has cluster "
                                       "support disabled",
                                       {}},
                                 at));
  EXPECT_FALSE(ClusterMap::parse(array({}), at));
  EXPECT_FALSE(ClusterMap::parse(array({range(5, 4, "h", 1)}), at));
  EXPECT_FALSE(ClusterMap::parse(array({range(0, 16384, "h", 1)}), at));
  EXPECT_FALSE(ClusterMap::parse(array({range(0, 1, "h", 0)}), at));
}

TEST(ClusterMapTest, ReadsRedirects) {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to, (RedisEndpoint{"127.0.0.1", 6381}));
  auto ask = parse_redirect("ASK 12 [::1]:7000");
  ASSERT_TRUE(ask);
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->to, (RedisEndpoint{"::1", 7000}));
  auto no_host = parse_redirect("MOVED 1 :7001");
  ASSERT_TRUE(no_host);
  EXPECT_EQ(no_host->to.host, "");
  EXPECT_FALSE(parse_redirect("ERR wrong"));
  EXPECT_FALSE(parse_redirect("MOVED 99999 h:1"));
  EXPECT_FALSE(parse_redirect("MOVED 1 h"));
}

}  // namespace
}  // namespace waitroom::store::redis
