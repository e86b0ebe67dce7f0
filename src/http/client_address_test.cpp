#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace waitroom::http {
namespace {

core::IpBytes addr(const char* text) { return *core::parse_ip_address(text); }

core::IpBytes client(const char* peer, std::vector<const char*> xff_lines,
                     std::vector<const char*> trusted) {
  boost::beast::http::fields headers;
  for (const char* line : xff_lines) headers.insert("X-Forwarded-For", line);
  std::vector<core::IpNetwork> networks;
  for (const char* t : trusted) networks.push_back(*core::parse_ip_network(t));
  return client_address(addr(peer), headers, networks);
}

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverItClaims) {
  EXPECT_EQ(client("198.51.100.1", {"203.0.113.9"}, {"10.0.0.0/8"}), addr("198.51.100.1"));
}

TEST(ClientAddress, WalksFromTheRightPastTrustedProxiesOnly) {
  EXPECT_EQ(client("10.0.0.1", {"203.0.113.9"}, {"10.0.0.0/8"}), addr("203.0.113.9"));
  // The client's own left part does not count: the first untrusted address from the right does.
  EXPECT_EQ(client("10.0.0.1", {"1.1.1.1, 203.0.113.9, 10.0.0.2"}, {"10.0.0.0/8"}),
            addr("203.0.113.9"));
  EXPECT_EQ(client("10.0.0.1", {"203.0.113.9", "10.0.0.2"}, {"10.0.0.0/8"}), addr("203.0.113.9"));
  EXPECT_EQ(client("10.0.0.1", {" 2001:db8::5 "}, {"10.0.0.0/8"}), addr("2001:db8::5"));
}

TEST(ClientAddress, GarbageOrAllTrustedStopsAtTheLastAddressBelieved) {
  EXPECT_EQ(client("10.0.0.1", {"203.0.113.9, junk, 10.0.0.2"}, {"10.0.0.0/8"}), addr("10.0.0.2"));
  EXPECT_EQ(client("10.0.0.1", {"10.0.0.3"}, {"10.0.0.0/8"}), addr("10.0.0.3"));
  EXPECT_EQ(client("10.0.0.1", {}, {"10.0.0.0/8"}), addr("10.0.0.1"));
}

TEST(ClientAddress, LoopbackAndLimitKeys) {
  EXPECT_TRUE(is_loopback(addr("127.0.0.1")));
  EXPECT_TRUE(is_loopback(addr("127.9.9.9")));
  EXPECT_TRUE(is_loopback(addr("::1")));
  EXPECT_FALSE(is_loopback(addr("128.0.0.1")));
  EXPECT_FALSE(is_loopback(addr("::2")));
  EXPECT_NE(limit_key(addr("203.0.113.1")), limit_key(addr("203.0.113.2")));
  EXPECT_EQ(limit_key(addr("2001:db8:0:1::1")), limit_key(addr("2001:db8:0:1:ffff::1")));
  EXPECT_NE(limit_key(addr("2001:db8:0:1::1")), limit_key(addr("2001:db8:0:2::1")));
}

}  // namespace
}  // namespace waitroom::http
