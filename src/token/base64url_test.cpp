#include "token/base64url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace waitroom::token {
namespace {

TEST(Base64Url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Url, UsesUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_"), std::string("\xfb\xff\xbf", 3));
}

TEST(Base64Url, RoundTripsEveryByteAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const std::string in = bytes.substr(0, n);
    const auto out = base64url_decode(base64url_encode(in));
    ASSERT_TRUE(out.has_value()) << n;
    EXPECT_EQ(*out, in);
  }
}

TEST(Base64Url, DecodesEmpty) { EXPECT_EQ(base64url_decode(""), std::string()); }

TEST(Base64Url, RejectsPadding) {
  EXPECT_FALSE(base64url_decode("Zg==").has_value());
  EXPECT_FALSE(base64url_decode("Zm8=").has_value());
}

TEST(Base64Url, RejectsStandardAlphabetAndJunk) {
  EXPECT_FALSE(base64url_decode("+/+/").has_value());
  EXPECT_FALSE(base64url_decode("Zm 9v").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v\n").has_value());
  EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4)).has_value());
  EXPECT_FALSE(base64url_decode("Zm9\xc3\xa9").has_value());
}

TEST(Base64Url, RejectsImpossibleLength) {
  EXPECT_FALSE(base64url_decode("Z").has_value());
  EXPECT_FALSE(base64url_decode("Zm9vY").has_value());
}

TEST(Base64Url, RejectsNonCanonicalTrailingBits) {
  // "Zg" is canonical for "f"; "Zh" carries the same byte with a stray low bit.
  EXPECT_TRUE(base64url_decode("Zg").has_value());
  EXPECT_FALSE(base64url_decode("Zh").has_value());
  EXPECT_FALSE(base64url_decode("Zm9").has_value());
}

}  // namespace
}  // namespace waitroom::token
