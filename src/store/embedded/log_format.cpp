#include "store/embedded/log_format.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include "store/crc32c.hpp"

namespace waitroom::store {

namespace {
constexpr std::uint32_t kMarkMagic = 0x314D5257;  // "WRM1"
// The smallest frame (v1 header and a one-byte payload): bounds the sequence numbers that can
// follow a bad spot.
constexpr std::uint64_t kMinFrameBytes = kV1HeaderBytes + 1;

void put_u32(std::string& out, std::uint32_t v) {
  out.append(reinterpret_cast<const char*>(&v), 4);
}
void put_u64(std::string& out, std::uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

struct Frame {
  enum class Kind { record, marker, bad };
  Kind kind = Kind::bad;
  bool v2 = false;
  std::uint64_t end = 0;
  std::uint64_t sequence = 0;
  std::string_view payload;
  const char* reason = "";
};

Frame bad(const char* reason) { return Frame{Frame::Kind::bad, false, 0, 0, {}, reason}; }

// Checks the length field shared by both framings.
const char* check_length(std::string_view data, std::uint64_t at, std::size_t header) {
  if (data.size() - at < header) return "a partial frame header at the end of the file";
  const std::uint32_t len = get_u32(data.data() + at);
  if (len == 0) return "zero-filled space (a zero length)";
  if (len > kMaxRecordBytes || data.size() - at - header < len)
    return "a length past the end of the file";
  return nullptr;
}

Frame parse_v1(std::string_view data, std::uint64_t at) {
  if (const char* why = check_length(data, at, kV1HeaderBytes)) return bad(why);
  const std::uint32_t len = get_u32(data.data() + at);
  const std::string_view payload = data.substr(at + kV1HeaderBytes, len);
  if (crc32c(payload) != get_u32(data.data() + at + 4)) return bad("a checksum mismatch");
  const auto kind = payload == kFramingMarker ? Frame::Kind::marker : Frame::Kind::record;
  return Frame{kind, false, at + kV1HeaderBytes + len, 0, payload, ""};
}

Frame parse_v2(std::string_view data, std::uint64_t at) {
  if (const char* why = check_length(data, at, kV2HeaderBytes)) return bad(why);
  const std::uint32_t len = get_u32(data.data() + at);
  // The CRC covers the length, the sequence and the payload (contiguous after the CRC field).
  const std::uint32_t crc = crc32c_extend(crc32c(data.substr(at, 4)), data.substr(at + 8, 8 + len));
  if (crc != get_u32(data.data() + at + 4)) return bad("a checksum mismatch");
  return Frame{Frame::Kind::record,
               true,
               at + kV2HeaderBytes + len,
               get_u64(data.data() + at + 8),
               data.substr(at + kV2HeaderBytes, len),
               ""};
}

// The first non-zero byte at or after `from`, or data.size(). Word at a time: the zero-filled space
// ahead of the log's end is megabytes long.
std::uint64_t first_nonzero(std::string_view data, std::uint64_t from) {
  std::uint64_t i = from;
  while (i + 8 <= data.size()) {
    if (get_u64(data.data() + i) != 0) break;
    i += 8;
  }
  while (i < data.size() && data[i] == 0) ++i;
  return i;
}

std::string offset_text(std::uint64_t offset) { return std::to_string(offset); }
}  // namespace

void append_v1_frame(std::string& out, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, crc32c(payload));
  out.append(payload);
}

void append_v2_frame(std::string& out, std::string_view payload, std::uint64_t sequence) {
  const std::size_t at = out.size();
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_u32(out, 0);  // the CRC, filled in below
  put_u64(out, sequence);
  out.append(payload);
  const std::string_view frame(out.data() + at, out.size() - at);
  const std::uint32_t crc = crc32c_extend(crc32c(frame.substr(0, 4)), frame.substr(8));
  std::memcpy(out.data() + at + 4, &crc, 4);
}

std::filesystem::path mark_path(const std::filesystem::path& log_file) {
  return log_file.string() + ".end";
}

std::filesystem::path rewrite_path(const std::filesystem::path& log_file) {
  return log_file.string() + ".compacting";
}

std::string encode_mark_slot(const DurableMark& mark) {
  std::string body;
  put_u64(body, mark.generation);
  put_u64(body, mark.end);
  put_u64(body, mark.records);
  std::string slot;
  put_u32(slot, kMarkMagic);
  put_u32(slot, crc32c(body));
  slot += body;
  return slot;
}

DurableMark read_mark(const std::filesystem::path& file) {
  auto data = read_whole_file(file);
  DurableMark best;
  std::uint64_t best_generation = 0;
  if (!data) return best;
  for (std::size_t at = 0; at + kMarkSlotBytes <= data->size(); at += kMarkSlotBytes) {
    const char* p = data->data() + at;
    if (get_u32(p) != kMarkMagic || crc32c(std::string_view(p + 8, 24)) != get_u32(p + 4)) continue;
    const std::uint64_t generation = get_u64(p + 8);
    if (generation < best_generation) continue;
    best_generation = generation;
    best = DurableMark{get_u64(p + 16), get_u64(p + 24), generation};
  }
  return best;
}

core::Result<std::string> read_whole_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return core::fail(core::ErrorCode::not_found, "cannot open " + file.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return core::fail(core::ErrorCode::internal, "cannot read " + file.string());
  return std::move(out).str();
}

namespace {

// The records from the start of the file up to the first bad spot.
struct IntactRun {
  std::uint64_t end = 0;
  bool v2 = false;  // the framing in force at `end`
  std::uint64_t next_sequence = 1;
  std::string reason;            // why the frame at `end` is bad
  bool out_of_sequence = false;  // the frame at `end` is intact, only misnumbered
};

core::Result<IntactRun> read_intact_run(std::string_view data, const RecordVisitor& intact) {
  IntactRun run;
  while (run.end < data.size()) {
    const Frame f = run.v2 ? parse_v2(data, run.end) : parse_v1(data, run.end);
    if (f.kind == Frame::Kind::bad) {
      run.reason = f.reason;
      break;
    }
    if (f.kind == Frame::Kind::marker) {
      run.v2 = true;
      run.end = f.end;
      continue;
    }
    if (run.v2 && f.sequence != run.next_sequence) {
      run.reason = "a record out of sequence (number " + std::to_string(f.sequence) + " where " +
                   std::to_string(run.next_sequence) + " belongs)";
      run.out_of_sequence = true;
      break;
    }
    if (intact)
      if (auto r = intact(f.payload, run.end); !r) return std::unexpected(r.error());
    ++run.next_sequence;
    run.end = f.end;
  }
  return run;
}

}  // namespace

core::Result<bool> for_each_written_record(std::string_view data, bool v2,
                                           const std::function<void(std::string_view)>& visit) {
  std::uint64_t at = 0;
  while (at < data.size()) {
    const Frame f = v2 ? parse_v2(data, at) : parse_v1(data, at);
    if (f.kind == Frame::Kind::bad)
      return core::fail(core::ErrorCode::internal,
                        std::string("the log changed under compaction: ") + f.reason + " at " +
                            std::to_string(at));
    if (f.kind == Frame::Kind::marker)
      v2 = true;
    else
      visit(f.payload);
    at = f.end;
  }
  return v2;
}

namespace {

// Past the bad spot: looks for any intact record, at every offset, skipping zero-filled runs, and
// counts what it finds into `scan` (valid_after, first_valid_after, last_valid_end).
core::Result<void> find_records_after(std::string_view data, const IntactRun& run,
                                      const RecordVisitor& after, LogScan& scan) {
  bool cur_v2 = run.v2;
  std::uint64_t sequence_floor = run.next_sequence;  // the bad record's own number, or later
  const std::uint64_t sequence_ceiling =
      run.next_sequence + (data.size() - run.end) / kMinFrameBytes + 1;
  // A misnumbered but intact frame is looked at again: a later number means records are missing.
  std::uint64_t pos = run.out_of_sequence ? run.end : run.end + 1;
  while (pos + kV1HeaderBytes <= data.size()) {
    if (get_u32(data.data() + pos) == 0) {
      const std::uint64_t z = first_nonzero(data, pos);
      if (z == data.size()) break;
      pos = z - 3;  // a frame's length may start with up to three zero bytes
      continue;
    }
    Frame f = bad("");
    if (!cur_v2) f = parse_v1(data, pos);
    if (f.kind == Frame::Kind::bad) {
      f = parse_v2(data, pos);
      if (f.kind == Frame::Kind::record &&
          (f.sequence < sequence_floor || f.sequence > sequence_ceiling))
        f = bad("");
    }
    if (f.kind == Frame::Kind::bad) {
      ++pos;
      continue;
    }
    // Follow the intact run from here.
    for (;;) {
      if (f.kind == Frame::Kind::marker) {
        cur_v2 = true;
      } else {
        if (f.v2) {
          cur_v2 = true;
          sequence_floor = f.sequence + 1;
        }
        if (scan.valid_after == 0) scan.first_valid_after = pos;
        ++scan.valid_after;
        scan.last_valid_end = f.end;
        if (after)
          if (auto r = after(f.payload, pos); !r) return std::unexpected(r.error());
      }
      pos = f.end;
      if (pos >= data.size()) break;
      f = cur_v2 ? parse_v2(data, pos) : parse_v1(data, pos);
      if (f.kind == Frame::Kind::bad || (f.v2 && f.sequence != sequence_floor)) break;
    }
  }
  return {};
}

}  // namespace

core::Result<LogScan> scan_log(std::string_view data, DurableMark mark, const RecordVisitor& intact,
                               const RecordVisitor& after) {
  LogScan scan;
  scan.file_bytes = data.size();
  scan.mark = mark;
  auto run = read_intact_run(data, intact);
  if (!run) return std::unexpected(run.error());
  const std::uint64_t at = run->end;
  scan.records = run->next_sequence - 1;
  scan.intact_end = at;
  scan.v2 = run->v2;
  if (at == data.size()) {
    if (at < mark.end) {
      scan.outcome = LogScan::Outcome::damaged;
      scan.reason =
          "the file ends there, before the durable end recorded in its .end file (offset " +
          offset_text(mark.end) +
          "): it was cut, or it is a copy taken from a running server with the "
          ".end file copied after it (then delete that copy's .end file)";
    }
    return scan;
  }
  scan.reason = run->reason;
  const bool zeros_only = first_nonzero(data, at) == data.size();
  if (!zeros_only)
    if (auto found = find_records_after(data, *run, after, scan); !found)
      return std::unexpected(found.error());
  if (scan.valid_after > 0) {
    scan.outcome = LogScan::Outcome::damaged;
  } else if (at < mark.end) {
    scan.outcome = LogScan::Outcome::damaged;
    scan.reason +=
        ", before the durable end recorded in its .end file (offset " + offset_text(mark.end) + ")";
  } else {
    scan.outcome = zeros_only ? LogScan::Outcome::clean : LogScan::Outcome::torn_tail;
  }
  return scan;
}

std::string describe_scan(const LogScan& scan, const std::filesystem::path& file,
                          const std::filesystem::path& data_dir) {
  std::ostringstream out;
  const std::string framing = scan.v2 ? "framing v2" : "framing v1 (written before version 2)";
  switch (scan.outcome) {
    case LogScan::Outcome::clean:
      out << file.string() << ": intact: " << scan.records << " records in " << scan.intact_end
          << " bytes (" << framing << ")";
      if (scan.file_bytes > scan.intact_end)
        out << ", then " << scan.file_bytes - scan.intact_end << " bytes of zero-filled space";
      out << "; durable end recorded at offset " << scan.mark.end << ".";
      break;
    case LogScan::Outcome::torn_tail:
      out << file.string() << ": " << scan.records << " intact records end at offset "
          << scan.intact_end << " (" << framing << "); the " << scan.file_bytes - scan.intact_end
          << " bytes after them are a torn last write (" << scan.reason
          << ") and no intact record follows them. This is what a crash during a write leaves; it "
             "was"
             " never acknowledged, and start-up cuts it off by itself. Not damage.";
      break;
    case LogScan::Outcome::damaged:
      out << file.string() << " is damaged at offset " << scan.intact_end << ": " << scan.reason
          << ". " << scan.records << " records were read before it; " << scan.valid_after
          << " intact records follow it";
      if (scan.valid_after > 0)
        out << " (from offset " << scan.first_valid_after << " to " << scan.last_valid_end << ")";
      out << ". ";
      if (scan.valid_after > 0 && scan.mark.end > 0 && scan.intact_end >= scan.mark.end)
        out << "The damage lies past the durable end last recorded (offset " << scan.mark.end
            << "): a power loss during the last write can leave this, and those records may never"
               " have been acknowledged. ";
      out << "Waitroom does not start on a damaged log, so that no acknowledged change is dropped"
             " and no position is handed out twice. What to do: restore the data directory from a"
             " backup (check it first with `waitroom log check --data-dir DIR`), or drop everything"
             " from this offset with `waitroom log repair --data-dir "
          << data_dir.string() << " --truncate-at " << scan.intact_end
          << "` (it keeps a backup copy of the log and keeps each room's counters above what the"
             " dropped records reached). See docs/operations.md, \"A damaged log\".";
      break;
  }
  return out.str();
}

}  // namespace waitroom::store
