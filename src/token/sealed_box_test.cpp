#include "token/sealed_box.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <memory>

#include "token/hmac_sha256.hpp"

namespace waitroom::token {
namespace {

constexpr std::string_view kSealedSecret = "0123456789abcdef0123456789abcdef";

TEST(SealedBox, OpensWhatItSealedAndNothingElse) {
  const SealedBox box(kSealedSecret, "waitroom test v1");
  const std::string plaintext = "visitor@example.com";
  const std::string sealed = box.seal(plaintext);
  ASSERT_EQ(sealed.size(), plaintext.size() + kSealedOverheadBytes);
  EXPECT_EQ(sealed.find(plaintext), std::string::npos);
  EXPECT_EQ(box.open(sealed), plaintext);
  EXPECT_NE(box.seal(plaintext), sealed);  // a fresh IV each time

  // Another label or secret is another key.
  EXPECT_FALSE(SealedBox(kSealedSecret, "waitroom test v2").open(sealed));
  EXPECT_FALSE(SealedBox("another secret, another key....", "waitroom test v1").open(sealed));
  // A byte changed anywhere (IV, ciphertext, tag), cut short or lengthened: nothing.
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x80);
    EXPECT_FALSE(box.open(tampered)) << i;
  }
  EXPECT_FALSE(box.open(sealed.substr(0, sealed.size() - 1)));
  EXPECT_FALSE(box.open(sealed + "x"));
  EXPECT_FALSE(box.open(""));
  EXPECT_FALSE(box.open(std::string(kSealedOverheadBytes, '\0')));
}

TEST(SealedBox, AssociatedDataMustMatch) {
  const SealedBox box(kSealedSecret, "waitroom test v1");
  const std::string sealed = box.seal("endpoint and keys", "sale/ticket-1");
  EXPECT_EQ(box.open(sealed, "sale/ticket-1"), "endpoint and keys");
  EXPECT_FALSE(box.open(sealed, "sale/ticket-2"));  // copied to another ticket
  EXPECT_FALSE(box.open(sealed));
  EXPECT_FALSE(box.open(box.seal("x"), "sale/ticket-1"));
}

TEST(SealedBox, SealsEmptyAndBinaryValues) {
  const SealedBox box(kSealedSecret, "label");
  EXPECT_EQ(box.open(box.seal("")), "");
  const std::string binary("\0\x01\xff\x80 zero\0", 10);
  EXPECT_EQ(box.open(box.seal(binary)), binary);
  const std::string large(100'000, 'a');
  EXPECT_TRUE(box.open(box.seal(large, "ad"), "ad") == large);
}

// The layout others depend on (web/sign_in_state's cookies, values in the log): iv || ciphertext
// || tag, AES-256-GCM under HMAC-SHA256(secret, label), read here with OpenSSL directly.
TEST(SealedBox, LayoutIsIvCiphertextTagUnderTheDerivedKey) {
  const SealedBox box(kSealedSecret, "label");
  const std::string sealed = box.seal("hello", "ad");
  const std::string key = hmac_sha256(kSealedSecret, "label");
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  std::string tag = sealed.substr(sealed.size() - 16);
  unsigned char out[5];
  int len = 0, tail = 0;
  ASSERT_EQ(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()), bytes),
            1);
  ASSERT_EQ(
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>("ad"), 2),
      1);
  ASSERT_EQ(EVP_DecryptUpdate(ctx.get(), out, &len, bytes + 12, 5), 1);
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()), 1);
  ASSERT_EQ(EVP_DecryptFinal_ex(ctx.get(), out + len, &tail), 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out), 5), "hello");
}

}  // namespace
}  // namespace waitroom::token
