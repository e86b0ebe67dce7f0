#include "token/base64url.hpp"

#include <gtest/gtest.h>

#include <array>
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

TEST(Base64Url, DecodesIntoABufferLikeIntoAString) {
  for (std::string_view bytes :
       {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01 any bytes"}) {
    const std::string text = base64url_encode(bytes);
    std::array<char, 64> buffer{};
    const auto size = base64url_decode(text, buffer);
    ASSERT_TRUE(size.has_value()) << text;
    EXPECT_EQ(std::string_view(buffer.data(), *size), bytes);
    EXPECT_EQ(base64url_decode(text), std::string(bytes));
  }
}

TEST(Base64Url, RefusesABufferTooSmall) {
  std::array<char, 5> buffer{};
  EXPECT_FALSE(base64url_decode("Zm9vYmFy", buffer).has_value());  // 6 bytes
  EXPECT_TRUE(base64url_decode("Zm9vYg", buffer).has_value());     // 4 bytes
}

TEST(Base64Url, RejectsJunkInEveryPositionOfABlock) {
  for (std::size_t i = 0; i < 8; ++i) {
    std::string text = "Zm9vYmFy";
    text[i] = '+';
    EXPECT_FALSE(base64url_decode(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace waitroom::token
