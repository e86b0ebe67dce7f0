#include "core/ip_network.hpp"

#include <gtest/gtest.h>

namespace waitroom::core {
namespace {

IpBytes addr(const char* text) { return *parse_ip_address(text); }

TEST(IpNetwork, ParsesBothFamiliesAndPrintsThemBack) {
  for (const char* text : {"10.0.0.0/8", "192.0.2.7/32", "0.0.0.0/0", "2001:db8::/32", "::1/128"})
    EXPECT_EQ(to_string(*parse_ip_network(text)), text);
  EXPECT_EQ(to_string(*parse_ip_network("192.0.2.7")), "192.0.2.7/32");
  EXPECT_EQ(to_string(*parse_ip_network("2001:db8::1")), "2001:db8::1/128");
}

TEST(IpNetwork, RefusesWhatIsNotANetwork) {
  for (const char* text : {"", "10.0.0.0/33", "10.1.2.3/8", "2001:db8::/129", "example.com",
                           "10.0.0.0/", "10.0.0.0/8x"})
    EXPECT_FALSE(parse_ip_network(text)) << text;
}

TEST(IpNetwork, ContainsComparesIpv4AsMappedIpv6) {
  const IpNetwork net = *parse_ip_network("172.16.0.0/12");
  EXPECT_TRUE(contains(net, addr("172.31.255.255")));
  EXPECT_FALSE(contains(net, addr("172.32.0.0")));
  EXPECT_TRUE(contains(net, addr("::ffff:172.16.0.1")));
  EXPECT_FALSE(contains(*parse_ip_network("2001:db8::/32"), addr("172.16.0.1")));
}

TEST(IpNetwork, NetworkOfKeepsOnlyThePrefix) {
  EXPECT_EQ(to_string(network_of(addr("203.0.113.77"), 24, 64)), "203.0.113.0/24");
  EXPECT_EQ(to_string(network_of(addr("2001:db8:1:2:3:4:5:6"), 24, 64)), "2001:db8:1:2::/64");
  EXPECT_EQ(network_of(addr("2001:db8:1:2::1"), 32, 64),
            network_of(addr("2001:db8:1:2:ffff::"), 32, 64));
}

}  // namespace
}  // namespace waitroom::core
