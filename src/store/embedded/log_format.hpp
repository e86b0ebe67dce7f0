#pragma once
// The embedded log's framing on disk, and the one scan that start-up, `waitroom log check` and
// `waitroom log repair` share, so all three tell a torn tail from damage the same way.
//
// Framing. Logs written before version 2 are a run of
//   [u32 length][u32 CRC-32C of payload][payload]                          (v1)
// and such logs are still read. Since version 2 a log switches framing once, with a v1 frame whose
// payload is kFramingMarker (a new log starts with it; an old log gets it at its first append
// after an upgrade, so it is never rewritten), and every record after it is
//   [u32 length][u32 CRC-32C of length, sequence and payload][u64 sequence][payload]   (v2)
// where the sequence is the record's number in the file (1, 2, 3…, counting v1 records too).
// The marker's payload starts with a zero byte, which decode_record() refuses: an older binary
// stops on a v2 log instead of misreading it.
//
// Torn tail or damage? A crash (kill -9) leaves at most a torn last write: the file ends with a
// prefix of the batch that was being written, and nothing intact follows it. Damage (a flipped
// byte, a zeroed page, a cut) leaves intact records after the bad spot, or a bad spot before the
// durable end that was already recorded. So the rule is: a record that fails its checks is a torn
// tail only when no intact record follows it anywhere in the file (past zero-filled space too) and
// it lies past the durable-end mark (DurableMark, kept in waitroom.log.end). Anything else is
// damage and start-up refuses. The sequence number is what makes "an intact record follows"
// decidable with confidence: a frame found while searching past the bad spot counts only if its
// CRC covers its length and its sequence is later than the last good one, so stale or random
// bytes do not pass for records. The mark closes the other hole: damage that reaches the end of
// the file (a zeroed last page, a cut) is refused when it lies before the recorded durable end. The
// writer moves the mark after each synced batch, before answering its requests (durable_log.cpp),
// so only bytes that no request was ever told were durable can be cut as a torn tail.
// (Exceptions, documented in docs/operations.md: in relaxed durability records are acknowledged
// before their sync and so before the mark; after a power loss the mark may lag by up to a
// second, as its own sync is periodic. Both only narrow what is refused; nothing beyond the
// mark is kept out of an intact log.)
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::store {

// The log's file in a data directory; its durable-end mark is mark_path() of it.
inline constexpr const char* kLogFileName = "waitroom.log";

inline constexpr std::size_t kV1HeaderBytes = 8;
inline constexpr std::size_t kV2HeaderBytes = 16;
inline constexpr std::uint32_t kMaxRecordBytes = 64 << 20;
inline constexpr std::string_view kFramingMarker{"\0waitroom-log-v2", 16};

// Appends one frame to `out`.
void append_v1_frame(std::string& out, std::string_view payload);
void append_v2_frame(std::string& out, std::string_view payload, std::uint64_t sequence);

// The durable end last recorded next to the log: every byte before `end` was on disk (synced) when
// it was written, `records` records in all.
struct DurableMark {
  std::uint64_t end = 0;
  std::uint64_t records = 0;
  std::uint64_t generation = 0;  // which write of the mark file this was
};
std::filesystem::path mark_path(const std::filesystem::path& log_file);
// Where compaction writes the log that replaces it (removed at start-up if one was left).
std::filesystem::path rewrite_path(const std::filesystem::path& log_file);
// The newest intact mark in `file`, or a zero mark when there is none.
DurableMark read_mark(const std::filesystem::path& file);
// One of the mark file's two slots, alternately written so a torn write leaves the other intact.
std::string encode_mark_slot(const DurableMark& mark);
inline constexpr std::size_t kMarkSlotBytes = 32;

struct LogScan {
  enum class Outcome {
    clean,      // every byte is intact records, then zero-filled space if any
    torn_tail,  // a torn last write after the intact records: cut off at start-up
    damaged,    // start-up refuses; `waitroom log repair` is the explicit way out
  };
  Outcome outcome = Outcome::clean;
  std::uint64_t file_bytes = 0;
  std::uint64_t records = 0;     // intact records before `intact_end`
  std::uint64_t intact_end = 0;  // start-up keeps [0, intact_end)
  bool v2 = false;               // the framing in force at intact_end (the marker was seen)
  // torn_tail and damaged: what failed at intact_end, and what was found after it.
  std::string reason;
  std::uint64_t valid_after = 0;        // intact records found past intact_end
  std::uint64_t first_valid_after = 0;  // offset of the first of them
  std::uint64_t last_valid_end = 0;     // where the last of them ends
  DurableMark mark;
};

// Called for each intact record with its payload and the offset of its frame.
using RecordVisitor =
    std::function<core::Result<void>(std::string_view payload, std::uint64_t offset)>;

// Scans a whole log. `intact` sees the records before the first bad spot, in order; `after` (if
// set) sees the intact records found past it. An error from a visitor stops the scan.
core::Result<LogScan> scan_log(std::string_view data, DurableMark mark, const RecordVisitor& intact,
                               const RecordVisitor& after = {});

// Calls `visit` with each record's payload in `data`: whole frames that the log's writer wrote
// (the part of a live log after a batch boundary, which compaction copies), `v2` the framing in
// force at its start. Anything but intact frames is an error. Returns the framing at its end.
core::Result<bool> for_each_written_record(std::string_view data, bool v2,
                                           const std::function<void(std::string_view)>& visit);

// The report start-up refuses with and `waitroom log check` prints: the file, the offset, what
// failed, how many records come before and after, and what to do.
std::string describe_scan(const LogScan& scan, const std::filesystem::path& file,
                          const std::filesystem::path& data_dir);

// Reads a whole file.
core::Result<std::string> read_whole_file(const std::filesystem::path& file);

}  // namespace waitroom::store
