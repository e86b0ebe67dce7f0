#include "gate/proxy_headers.hpp"

#include <gtest/gtest.h>

namespace waitroom::gate {
namespace {

namespace bhttp = boost::beast::http;
using boost::asio::ip::make_address;

std::vector<std::string> names(const bhttp::fields& f) {
  std::vector<std::string> out;
  for (const auto& field : f) out.emplace_back(field.name_string());
  return out;
}

TEST(ProxyHeaders, RemovesHopByHopAndWhatConnectionNames) {
  bhttp::fields f;
  f.set("Host", "shop.example");
  f.set("Connection", "keep-alive, X-Secret-Hop ,Upgrade");
  f.insert("Connection", "x-other-hop");
  f.set("X-Secret-Hop", "1");
  f.set("X-Other-Hop", "1");
  f.set("Keep-Alive", "timeout=5");
  f.set("Proxy-Connection", "keep-alive");
  f.set("Proxy-Authorization", "Basic x");
  f.set("Proxy-Authenticate", "Basic");
  f.set("TE", "trailers");
  f.set("Trailer", "X-Sum");
  f.set("Transfer-Encoding", "chunked");
  f.set("Upgrade", "websocket");
  f.set("Content-Length", "5");
  f.set("Cookie", "a=1");
  remove_hop_by_hop(f);
  EXPECT_EQ(names(f), (std::vector<std::string>{"Host", "Content-Length", "Cookie"}));
}

TEST(ProxyHeaders, DropsClientWaitroomFields) {
  bhttp::fields f;
  f.set("X-Waitroom-Ticket", "forged");
  f.set("x-waitroom-room", "forged");
  f.set("X-Waitroom", "kept: not the prefix");
  f.set("Accept", "*/*");
  remove_waitroom_fields(f);
  EXPECT_EQ(names(f), (std::vector<std::string>{"X-Waitroom", "Accept"}));
}

TEST(ProxyHeaders, ForwardedForAppendsThePeer) {
  bhttp::fields f;
  set_forwarded(f, make_address("192.0.2.1"), "shop.example:8080", false);
  EXPECT_EQ(f["X-Forwarded-For"], "192.0.2.1");
  EXPECT_EQ(f["X-Forwarded-Proto"], "http");
  EXPECT_EQ(f["X-Forwarded-Host"], "shop.example:8080");

  bhttp::fields g;
  g.insert("X-Forwarded-For", "198.51.100.7, 10.0.0.1");
  g.insert("X-Forwarded-For", "10.0.0.2");
  g.set("X-Forwarded-Proto", "https");
  g.set("X-Forwarded-Host", "spoofed.example");
  set_forwarded(g, make_address("::ffff:192.0.2.1"), "", false);
  EXPECT_EQ(g["X-Forwarded-For"], "198.51.100.7, 10.0.0.1, 10.0.0.2, 192.0.2.1");
  EXPECT_EQ(g.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(g["X-Forwarded-Proto"], "http");
  EXPECT_EQ(g.count("X-Forwarded-Host"), 0u);

  bhttp::fields h;
  set_forwarded(h, make_address("2001:db8::5"), "a", false);
  EXPECT_EQ(h["X-Forwarded-For"], "2001:db8::5");
}

TEST(ProxyHeaders, ForwardedProtoIsHttpsOverTls) {
  bhttp::fields f;
  f.set("X-Forwarded-Proto", "http");  // whatever the client claims
  set_forwarded(f, make_address("192.0.2.1"), "shop.example", true);
  EXPECT_EQ(f["X-Forwarded-Proto"], "https");
  EXPECT_EQ(f.count("X-Forwarded-Proto"), 1u);
}

}  // namespace
}  // namespace waitroom::gate
