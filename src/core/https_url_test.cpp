#include "core/https_url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace waitroom::core {
namespace {

TEST(HttpsUrl, HttpsAnywherePlainHttpOnlyToLoopback) {
  for (const char* good : {"https://shop.example/callback", "https://shop.example:8443/cb?tenant=a",
                           "https://shop.example", "http://localhost:4180/oauth2/callback",
                           "http://127.0.0.1:9/cb", "http://[::1]:8080/cb", "http://127.10.0.3/cb"})
    EXPECT_TRUE(is_https_or_loopback_url(good)) << good;
  for (const char* bad :
       {"", "/callback", "shop.example/cb", "https://shop.example/cb#frag",
        "http://shop.example/cb",  // plain http off loopback
        "http://127.0.0.1.evil.example/cb", "http://localhost.evil.example/cb",
        "http://127.0.0.256/cb", "https://user@shop.example/cb", "https:///cb",
        "https://shop.example:port/cb", "https://shop.example/a b", "javascript:alert(1)",
        "ftp://shop.example/", "https://shop.example\\@evil/"})
    EXPECT_FALSE(is_https_or_loopback_url(bad)) << bad;
  EXPECT_FALSE(
      is_https_or_loopback_url("https://shop.example/" + std::string(kMaxHttpsUrlBytes, 'a')));
}

}  // namespace
}  // namespace waitroom::core
