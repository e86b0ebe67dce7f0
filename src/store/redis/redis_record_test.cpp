// A record as the Redis store keeps it (redis_record.hpp): sealed records read back whole, records
// of older versions (unsealed) are still read, and any single flipped bit of a sealed record is
// refused rather than read as something else.
#include "store/redis/redis_record.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace waitroom::store::redis {
namespace {

// One record of every kind a room's log holds, some with long fields.
std::vector<engine::LogRecord> every_kind() {
  engine::AdmitRecord admit{"shop", 3, 1'700'000'000, 120, {7, 9}, {11}, {}};
  for (std::uint64_t p = 100; p < 140; ++p) admit.drawn.push_back(p);
  return {
      engine::RoomPutRecord{"shop", R"({"admission":{"mode":"rate","per_minute":60}})"},
      engine::RoomDeleteRecord{"shop"},
      engine::EnqueueRecord{"shop", 3, 41, 32, 1'700'000'000, 1},
      engine::AdvanceRecord{"shop", 3, 99},
      engine::PausedRecord{"shop", true},
      engine::ResetRecord{"shop", 4},
      engine::PassIssuedRecord{"shop", 3, 41, 1'700'000'000, 1'700'000'600, std::string(400, 'j')},
      engine::SessionEndRecord{"shop", 3, 41, core::TicketStatus::revoked},
      admit,
      engine::EventRecord{"shop", 3, 2, 1'700'000'000, 1'700'000'005, std::string(32, 's'), 1, 500},
      engine::PassRenewedRecord{"shop", 3, 41, 1'700'001'200, std::string(400, 'k')},
      engine::CounterFloorRecord{"shop", 3, 1000, 900},
  };
}

TEST(RedisRecord, SealedRecordsOfEveryKindReadBackWhole) {
  for (const auto& record : every_kind()) {
    const std::string payload = engine::encode_record(record);
    const std::string stored = seal_record(payload);
    ASSERT_EQ(stored.size(), payload.size() + kSealBytes);
    EXPECT_EQ(static_cast<unsigned char>(stored[0]), kSealedV1);
    auto unsealed = unseal_record(stored);
    ASSERT_TRUE(unsealed) << unsealed.error().detail;
    EXPECT_EQ(*unsealed, payload);
    auto read = read_record(stored);
    ASSERT_TRUE(read) << read.error().detail;
    EXPECT_EQ(read->index(), record.index());
    EXPECT_EQ(engine::encode_record(*read), payload);
  }
}

// A rolling upgrade: the logs older versions wrote hold unsealed records, read as they are.
TEST(RedisRecord, RecordsOfOlderVersionsAreStillRead) {
  for (const auto& record : every_kind()) {
    const std::string legacy = engine::encode_record(record);
    auto unsealed = unseal_record(legacy);
    ASSERT_TRUE(unsealed) << unsealed.error().detail;
    EXPECT_EQ(*unsealed, legacy);
    auto read = read_record(legacy);
    ASSERT_TRUE(read) << read.error().detail;
    EXPECT_EQ(engine::encode_record(*read), legacy);
  }
}

// Every bit of the marker, the checksum and the payload: a flip is refused by the check itself
// (unseal_record), not left to the decoder to notice by chance.
TEST(RedisRecord, EverySingleBitFlipIsRefused) {
  std::size_t flips = 0;
  for (const auto& record : every_kind()) {
    const std::string stored = seal_record(engine::encode_record(record));
    for (std::size_t byte = 0; byte < stored.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = stored;
        damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
        ASSERT_FALSE(unseal_record(damaged)) << "byte " << byte << " bit " << bit;
        ASSERT_FALSE(read_record(damaged)) << "byte " << byte << " bit " << bit;
        ++flips;
      }
    }
  }
  EXPECT_GT(flips, 10'000u);
}

TEST(RedisRecord, SaysWhatIsWrong) {
  const std::string stored = seal_record(engine::encode_record(engine::ResetRecord{"shop", 4}));
  std::string flipped = stored;
  flipped.back() = static_cast<char>(flipped.back() ^ 1);
  auto bad = unseal_record(flipped);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find("checksum mismatch"), std::string::npos) << bad.error().detail;

  EXPECT_FALSE(unseal_record(""));
  EXPECT_FALSE(unseal_record(stored.substr(0, kSealBytes)));  // the seal without its payload
  auto cut = unseal_record(stored.substr(0, stored.size() - 1));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().detail.find("checksum mismatch"), std::string::npos);
  auto zero = unseal_record(std::string("\0\0\0\0", 4));
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().detail.find("unknown first byte 0x00"), std::string::npos)
      << zero.error().detail;
}

// Intact but unknown to this version (a record kind a newer version added): refused, not skipped.
TEST(RedisRecord, AnIntactRecordOfAnUnknownKindIsRefused) {
  std::string payload = engine::encode_record(engine::ResetRecord{"shop", 4});
  payload[0] = static_cast<char>(200);
  auto read = read_record(seal_record(payload));
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().detail.find("cannot read"), std::string::npos) << read.error().detail;
}

// What makes the upgrade order matter (docs/scaling.md): a version that predates sealing decodes
// a sealed record as an unknown type, so it refuses it rather than misreading it.
TEST(RedisRecord, AnOlderVersionRefusesASealedRecord) {
  for (const auto& record : every_kind())
    EXPECT_FALSE(engine::decode_record(seal_record(engine::encode_record(record))));
}

}  // namespace
}  // namespace waitroom::store::redis
