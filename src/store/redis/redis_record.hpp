#pragma once
// How the Redis store keeps one record in a room's log (a Redis list, redis_keys.hpp): sealed with
// a CRC-32C, so that a record damaged in Redis (an RDB or AOF file damaged and loaded anyway, a
// stray write to the key, a bad restore) stops its room instead of being applied wrong or skipped.
//
//   sealed (written since log integrity, issue 25):  [0xFF][u32 CRC-32C of payload][payload]
//   legacy (written by older versions):              [payload]
//
// where payload is engine::encode_record()'s bytes, whose first byte is the record's type tag.
//
// Why this shape. A list element has its own length and Redis never tears one, so unlike the
// embedded log's frames (log_format.hpp) a record needs no length and no sequence number: what it
// lacked is a check of its bytes. The first byte tells the two forms apart with no flag elsewhere,
// so logs written before sealing are read as they are and a rolling upgrade needs no rewrite: a
// legacy record starts with its type tag, 1 to kLastLegacyType (versions that wrote unsealed
// records knew no more kinds; every later kind is sealed), and the marker 0xFF is none of them.
// Every single-bit flip of 0xFF gives 0x7F or more, again neither the marker nor a legacy tag, so
// a damaged marker is refused too and never passes for a legacy record (reaching a tag takes five
// flipped bits). The CRC covers the payload, not the element's index, so a later compaction may
// drop a list's head without resealing what stays. A node of an older version reads a sealed
// record as an unknown type and refuses it, so it never misreads one (docs/scaling.md,
// "Upgrading").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "engine/log_records.hpp"

namespace waitroom::store::redis {

inline constexpr unsigned char kSealedV1 = 0xFF;
inline constexpr std::size_t kSealBytes = 5;  // the marker and the CRC
// The highest type tag a legacy (unsealed) record may carry: CounterFloorRecord's.
inline constexpr unsigned char kLastLegacyType = 12;

// The stored form of a record's payload.
std::string seal_record(std::string_view payload);

// The payload of a stored record, sealed or legacy; an error saying what is wrong when it fails
// its check (the detail is a phrase: "a checksum mismatch (…)").
core::Result<std::string_view> unseal_record(std::string_view stored);

// unseal_record() and engine::decode_record() in one: the record, or what is wrong with it.
core::Result<engine::LogRecord> read_record(std::string_view stored);

}  // namespace waitroom::store::redis
