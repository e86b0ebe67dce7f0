#include "token/ticket_id.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace waitroom::token {
namespace {

const std::string kIdSecret(32, '\x42');

TEST(TicketId, RoundTrips) {
  const TicketIdCodec codec(kIdSecret);
  for (const auto& [epoch, position] : std::vector<std::pair<std::uint32_t, std::uint64_t>>{
           {0, 0}, {0, 1}, {1, 2}, {7, 123456789}, {kMaxTicketEpoch, kMaxTicketPosition}}) {
    const std::string id = codec.encode("shop", epoch, position);
    const auto ref = codec.decode("shop", id);
    ASSERT_TRUE(ref.has_value()) << id;
    EXPECT_EQ(ref->epoch, epoch);
    EXPECT_EQ(ref->position, position);
  }
}

TEST(TicketId, LooksLikeALowercaseUuid) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 3, 42);
  EXPECT_EQ(id.size(), kTicketIdChars);
  // 8-4-4-4-12 lowercase hex: also what AWS's request-id check (\w{8}-\w{4}-…) accepts.
  // (No std::regex: g++ 12 warns inside it under ASan with -Werror.)
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23)
      EXPECT_EQ(id[i], '-') << i;
    else
      EXPECT_TRUE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')) << i;
  }
  // Position 42 (5 bytes) then epoch 3 (3 bytes), big-endian, in front.
  EXPECT_EQ(id.substr(0, 18), "00000000-2a00-0003");
}

TEST(TicketId, TagIsTruncatedHmacSha256) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("r", 0x010203, 0x0405060708);
  const unsigned char message[] = {'r', 0, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0x02, 0x03};
  unsigned char mac[32];
  unsigned int mac_len = 0;
  ASSERT_NE(HMAC(EVP_sha256(), kIdSecret.data(), static_cast<int>(kIdSecret.size()), message,
                 sizeof message, mac, &mac_len),
            nullptr);
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  EXPECT_EQ(id, "04050607-0801-0203-" + std::string(hex, 4) + "-" + std::string(hex + 4, 12));
}

TEST(TicketId, IsDeterministicAndDistinct) {
  const TicketIdCodec codec(kIdSecret);
  EXPECT_EQ(codec.encode("shop", 1, 5), codec.encode("shop", 1, 5));
  EXPECT_NE(codec.encode("shop", 1, 5), codec.encode("shop", 1, 6));
  EXPECT_NE(codec.encode("shop", 1, 5), codec.encode("shop", 2, 5));
  EXPECT_NE(codec.encode("shop", 1, 5), codec.encode("shoe", 1, 5));
}

TEST(TicketId, RejectsOtherRoomAndOtherSecret) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 1, 5);
  EXPECT_FALSE(codec.decode("shop2", id).has_value());
  EXPECT_FALSE(codec.decode("", id).has_value());
  EXPECT_FALSE(TicketIdCodec(std::string(32, 'x')).decode("shop", id).has_value());
}

TEST(TicketId, RejectsChangedEpochOrPosition) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 1, 5);
  // Moving yourself forward in line or into a new epoch breaks the tag.
  std::string earlier = id;
  earlier[10] = '4';  // position 5 -> 4
  EXPECT_FALSE(codec.decode("shop", earlier).has_value());
  std::string next_epoch = id;
  next_epoch[17] = '2';  // epoch 1 -> 2
  EXPECT_FALSE(codec.decode("shop", next_epoch).has_value());
}

TEST(TicketId, RejectsEveryTamperedCharacter) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 9, 77);
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (id[i] == '-') continue;
    std::string bad = id;
    bad[i] = bad[i] == '0' ? '1' : '0';
    EXPECT_FALSE(codec.decode("shop", bad).has_value()) << i;
  }
}

TEST(TicketId, RejectsMalformedText) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 1, 0xabcdef);
  ASSERT_TRUE(codec.decode("shop", id).has_value());
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, id);
  EXPECT_FALSE(codec.decode("shop", upper).has_value());
  EXPECT_FALSE(codec.decode("shop", id.substr(0, 35)).has_value());
  EXPECT_FALSE(codec.decode("shop", id + "0").has_value());
  EXPECT_FALSE(codec.decode("shop", "").has_value());
  std::string no_dashes = id;
  std::erase(no_dashes, '-');
  EXPECT_FALSE(codec.decode("shop", no_dashes).has_value());
  std::string moved_dash = id;
  std::swap(moved_dash[8], moved_dash[9]);
  EXPECT_FALSE(codec.decode("shop", moved_dash).has_value());
  std::string junk = id;
  junk[0] = 'g';
  EXPECT_FALSE(codec.decode("shop", junk).has_value());
  EXPECT_FALSE(codec.decode("shop", std::string(36, '-')).has_value());
}

TEST(TicketId, DecodeUntrustedReadsTheIdWithoutItsTag) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 3, 0xabcdef);
  EXPECT_EQ(TicketIdCodec::decode_untrusted(id), (TicketRef{0xabcdef, 3}));
  std::string other_tag = id;
  other_tag.back() = other_tag.back() == '0' ? '1' : '0';
  EXPECT_FALSE(codec.decode("shop", other_tag).has_value());
  EXPECT_EQ(TicketIdCodec::decode_untrusted(other_tag), (TicketRef{0xabcdef, 3}));
  // The shape is still checked.
  EXPECT_FALSE(TicketIdCodec::decode_untrusted(id.substr(0, 35)).has_value());
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(TicketIdCodec::decode_untrusted(upper).has_value());
  EXPECT_FALSE(TicketIdCodec::decode_untrusted(std::string(36, '-')).has_value());
}

TEST(TicketId, MoveKeepsWorking) {
  TicketIdCodec a(kIdSecret);
  const std::string id = a.encode("shop", 1, 2);
  TicketIdCodec b(std::move(a));
  EXPECT_TRUE(b.decode("shop", id).has_value());
}

// More threads than pooled contexts, so the dup fallback runs too.
TEST(TicketId, IsThreadSafe) {
  const TicketIdCodec codec(kIdSecret);
  constexpr int kThreads = 24;
  constexpr int kPerThread = 2000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::uint64_t position = static_cast<std::uint64_t>(t) * kPerThread + i;
        const auto ref = codec.decode("shop", codec.encode("shop", 4, position));
        if (!ref || ref->position != position || ref->epoch != 4) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(TicketId, DecodeSpeed) {
  const TicketIdCodec codec(kIdSecret);
  const std::string id = codec.encode("shop", 1, 123456);
  constexpr int kIterations = 100'000;
  int ok = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) ok += codec.decode("shop", id).has_value() ? 1 : 0;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ok, kIterations);
  const double ns = std::chrono::duration<double, std::nano>(elapsed).count() / kIterations;
  std::printf("ticket decode: %.0f ns/op\n", ns);
  RecordProperty("decode_ns", static_cast<int>(ns));
}

}  // namespace
}  // namespace waitroom::token
