#include "store/embedded/log_tools.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>

#include "engine/event_records.hpp"
#include "engine/room_snapshot.hpp"
#include "store/embedded/durable_log.hpp"

namespace waitroom::store {

// The records of the log (engine/log_records.hpp).
using namespace engine;  // NOLINT(google-build-using-namespace): this file reads every kind

namespace {

// The smallest frame a join (EnqueueRecord) can take: a v1 header, the type, a one-byte room name
// with its length, epoch, first position, count and entry time.
constexpr std::uint64_t kMinJoinFrameBytes = kV1HeaderBytes + 1 + 4 + 1 + 4 + 8 + 8 + 8;
// The fewest bytes one event takes in an EventsRecord: its id, type and data lengths and its time.
constexpr std::uint64_t kMinStoredEventBytes = 4 + 4 + 8 + 4;

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void raise_position(DroppedReach& r, std::uint32_t epoch, std::uint64_t position,
                    std::uint64_t serving) {
  if (epoch < r.epoch) return;  // an earlier epoch: superseded by a reset that was also dropped
  if (epoch > r.epoch) r = DroppedReach{r.records, epoch, 0, 0};
  r.highest_position = std::max(r.highest_position, position);
  r.serving = std::max(r.serving, serving);
}

// Writes both slots of the mark file, so that the old mark cannot win over the new one.
bool write_mark_file(const std::filesystem::path& file, DurableMark mark) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::string both;
  mark.generation += 1;
  both += encode_mark_slot(mark);
  mark.generation += 1;
  both += encode_mark_slot(mark);
  const bool ok = ::pwrite(fd, both.data(), both.size(), 0) == static_cast<ssize_t>(both.size()) &&
                  ::fdatasync(fd) == 0;
  ::close(fd);
  return ok;
}

bool truncate_file(const std::filesystem::path& file, std::uint64_t size) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::ftruncate(fd, static_cast<off_t>(size)) == 0 && ::fdatasync(fd) == 0;
  ::close(fd);
  return ok;
}

// Appends records to the (now intact) log through the log itself and waits until they are durable.
core::Result<void> append_durably(const std::filesystem::path& file,
                                  const std::vector<LogRecord>& records) {
  auto log = DurableLog::open(file, true);
  if (!log) return std::unexpected(log.error());
  auto replayed = (*log)->replay([](std::string_view) -> core::Result<void> { return {}; });
  if (!replayed) return std::unexpected(replayed.error());
  (*log)->start();
  boost::asio::io_context ctx;
  std::size_t done = 0;
  bool all_ok = true;
  for (const LogRecord& r : records) {
    (*log)->async_wait((*log)->append(encode_record(r)),
                       boost::asio::bind_executor(ctx, [&](bool ok) {
                         all_ok = all_ok && ok;
                         ++done;
                       }));
  }
  while (done < records.size()) ctx.run_one();
  (*log)->stop();
  if (!all_ok) return core::fail(core::ErrorCode::internal, "cannot write to " + file.string());
  return {};
}

}  // namespace

int check_log(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err) {
  const std::filesystem::path file = data_dir / kLogFileName;
  if (!std::filesystem::exists(file)) {
    err << "waitroom log check: no log at " << file.string() << "\n";
    return kLogToolFailed;
  }
  auto data = read_whole_file(file);
  if (!data) {
    err << "waitroom log check: " << data.error().detail << "\n";
    return kLogToolFailed;
  }
  // Intact frames must also hold records this version can read.
  std::uint64_t undecodable = 0;
  std::uint64_t first_undecodable = 0;
  auto decodes = [&](std::string_view payload, std::uint64_t offset) -> core::Result<void> {
    if (!decode_record(payload) && undecodable++ == 0) first_undecodable = offset;
    return {};
  };
  auto scan = scan_log(*data, read_mark(mark_path(file)), decodes);
  if (!scan) {
    err << "waitroom log check: " << scan.error().detail << "\n";
    return kLogToolFailed;
  }
  out << describe_scan(*scan, file, data_dir) << "\n";
  if (undecodable > 0) {
    out << file.string() << ": " << undecodable << " intact records cannot be read by this version"
        << " (the first at offset " << first_undecodable
        << "): was the log written by a newer one?\n";
    return kLogToolDamaged;
  }
  return scan->outcome == LogScan::Outcome::damaged ? kLogToolDamaged : kLogToolOk;
}

void note_dropped(std::map<std::string, DroppedReach>& reach, const LogRecord& record) {
  std::visit(
      [&](const auto& r) {
        using R = std::decay_t<decltype(r)>;
        DroppedReach& room = reach[r.room];
        ++room.records;
        if constexpr (std::is_same_v<R, EnqueueRecord>) {
          raise_position(room, r.epoch, r.first_position + r.count - 1, 0);
        } else if constexpr (std::is_same_v<R, AdmitRecord>) {
          std::uint64_t highest = 0;
          for (std::uint64_t p : r.drawn) highest = std::max(highest, p);
          raise_position(room, r.epoch, highest, r.serving_to);
        } else if constexpr (std::is_same_v<R, AdvanceRecord>) {
          raise_position(room, r.epoch, 0, r.serving);
        } else if constexpr (std::is_same_v<R, PassIssuedRecord> ||
                             std::is_same_v<R, SessionEndRecord> ||
                             std::is_same_v<R, PassRenewedRecord>) {
          raise_position(room, r.epoch, r.position, 0);
        } else if constexpr (std::is_same_v<R, EventRecord>) {
          raise_position(room, r.epoch, std::max(r.first, r.last), 0);
        } else if constexpr (std::is_same_v<R, ResetRecord>) {
          raise_position(room, r.new_epoch, 0, 0);
        } else if constexpr (std::is_same_v<R, CounterFloorRecord>) {
          raise_position(room, r.epoch, r.queue_counter, r.serving);
          room.event_seq = std::max(room.event_seq, r.event_seq);
        } else if constexpr (std::is_same_v<R, EventsRecord>) {
          room.event_seq = std::max(room.event_seq, engine::feed_part(record).last_seq);
        } else if constexpr (std::is_same_v<R, RoomSnapshotRecord>) {
          room.event_seq = std::max(room.event_seq, r.last_event_seq);
          raise_position(room, r.last_epoch, 0, 0);
          auto image = engine::decode_image(r.image);  // refused for a deleted room's
          if (r.exists && image)
            raise_position(room, image->epoch, image->tickets.size(), image->serving);
        }
        // RoomPut, RoomDelete, Paused, RoomMessage: no counter; the room's later records say its
        // epoch.
      },
      record);
}

namespace {

// What a repair learns from reading the log before it changes anything.
struct RepairSurvey {
  LogScan scan;
  std::vector<std::uint64_t> starts;               // where each intact record begins
  std::map<std::string, DroppedReach> reach;       // per room, of the records to drop
  std::map<std::string, DroppedReach> kept_reach;  // per room, of the records kept
  std::uint64_t dropped = 0;
  std::uint64_t undecodable = 0;  // dropped records this version cannot read
  std::uint64_t dropped_frame_bytes = 0;
};

core::Result<RepairSurvey> survey_log(std::string_view data, DurableMark mark,
                                      std::uint64_t truncate_at) {
  RepairSurvey survey;
  auto drop = [&](std::string_view payload, std::uint64_t offset) {
    ++survey.dropped;
    // The payload is a view into the file, right after its frame's header.
    survey.dropped_frame_bytes +=
        static_cast<std::uint64_t>(payload.data() - data.data()) - offset + payload.size();
    if (auto record = decode_record(payload))
      note_dropped(survey.reach, *record);
    else
      ++survey.undecodable;
  };
  auto scan = scan_log(
      data, mark,
      [&](std::string_view payload, std::uint64_t offset) -> core::Result<void> {
        survey.starts.push_back(offset);
        if (offset >= truncate_at) {
          drop(payload, offset);
        } else if (auto record = decode_record(payload)) {
          note_dropped(survey.kept_reach, *record);
        }
        return {};
      },
      [&](std::string_view payload, std::uint64_t offset) -> core::Result<void> {
        drop(payload, offset);
        return {};
      });
  if (!scan) return std::unexpected(scan.error());
  survey.scan = std::move(*scan);
  return survey;
}

// Whether a cut at `truncate_at` is one a repair may make: nothing (a message on `err`), or the
// exit code when there is nothing to do.
std::optional<int> refuse_cut(const RepairSurvey& survey, std::uint64_t truncate_at,
                              std::ostream& out, std::ostream& err) {
  const LogScan& scan = survey.scan;
  if (truncate_at > scan.intact_end) {
    err << "waitroom log repair: offset " << truncate_at << " lies past the first bad spot (offset "
        << scan.intact_end
        << "); a repair keeps only the intact records before it. Nothing was changed.\n";
    return kLogToolFailed;
  }
  const auto& starts = survey.starts;
  if (truncate_at != 0 && truncate_at != scan.intact_end &&
      !std::binary_search(starts.begin(), starts.end(), truncate_at)) {
    auto next = std::lower_bound(starts.begin(), starts.end(), truncate_at);
    err << "waitroom log repair: no record starts at offset " << truncate_at
        << " (the nearest start at or before it is "
        << (next == starts.begin() ? 0 : *std::prev(next)) << "). Nothing was changed.\n";
    return kLogToolFailed;
  }
  if (truncate_at == scan.intact_end && scan.outcome != LogScan::Outcome::damaged) {
    out << "Nothing to repair: the log is intact up to offset " << truncate_at
        << (scan.outcome == LogScan::Outcome::torn_tail
                ? " (start-up cuts the torn tail by itself)."
                : ".")
        << " Nothing was changed.\n";
    return kLogToolOk;
  }
  return std::nullopt;
}

// A copy of the whole log (and its mark), so the repair can be undone by hand.
core::Result<std::filesystem::path> back_up_log(const std::filesystem::path& file) {
  const std::filesystem::path backup = file.string() + ".before-repair-" + utc_stamp();
  std::error_code ec;
  std::filesystem::copy_file(file, backup, std::filesystem::copy_options::overwrite_existing, ec);
  if (!ec && std::filesystem::exists(mark_path(file)))
    std::filesystem::copy_file(mark_path(file), mark_path(backup),
                               std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    return core::fail(core::ErrorCode::internal,
                      "cannot copy the log to " + backup.string() + ": " + ec.message());
  }
  return backup;
}

// The counter floors the repaired log ends with. Bytes in the dropped part that are not intact
// records (the damage itself) may have held joins too, of any room: every room's queue counter is
// raised by as many positions as they could hold (`margin`), so that none of those is handed out
// again either.
struct CounterFloors {
  std::vector<LogRecord> records;
  std::uint64_t unreadable = 0;  // bytes
  std::uint64_t margin = 0;      // positions
};

CounterFloors counter_floors(const RepairSurvey& survey, std::string_view data,
                             std::uint64_t truncate_at) {
  CounterFloors out;
  std::uint64_t written_end = data.size();
  while (written_end > truncate_at && data[written_end - 1] == 0) --written_end;
  const std::uint64_t span = written_end > truncate_at ? written_end - truncate_at : 0;
  out.unreadable = span > survey.dropped_frame_bytes ? span - survey.dropped_frame_bytes : 0;
  out.margin = (out.unreadable + kMinJoinFrameBytes - 1) / kMinJoinFrameBytes;
  std::map<std::string, DroppedReach> floor_of = survey.kept_reach;
  for (const auto& [room, r] : survey.reach) {
    DroppedReach& f = floor_of[room];
    f.event_seq = std::max(f.event_seq, r.event_seq);
    if (r.epoch > f.epoch) f = DroppedReach{0, r.epoch, 0, 0, f.event_seq};
    if (r.epoch == f.epoch) {
      f.highest_position = std::max(f.highest_position, r.highest_position);
      f.serving = std::max(f.serving, r.serving);
    }
  }
  for (const auto& [room, f] : floor_of) {
    // Epoch unknown (0): the room's first is 1.
    if (out.margin > 0 || (f.epoch > 0 && survey.reach.contains(room)))
      out.records.push_back(CounterFloorRecord{
          room, std::max<std::uint32_t>(f.epoch, 1), f.highest_position + out.margin, f.serving,
          // The unreadable bytes may have held events too: their numbers are never given again.
          f.event_seq + (f.event_seq > 0 || out.unreadable > 0
                             ? out.unreadable / kMinStoredEventBytes + out.margin
                             : 0)});
  }
  return out;
}

void report_repair(std::ostream& out, const std::filesystem::path& file,
                   const std::filesystem::path& backup, std::uint64_t truncate_at,
                   std::uint64_t kept, std::uint64_t file_size, const RepairSurvey& survey,
                   const CounterFloors& floors) {
  out << "Repaired " << file.string() << ": cut at offset " << truncate_at << ", kept " << kept
      << " records, dropped " << survey.dropped << " intact records (" << file_size - truncate_at
      << " bytes including the damage and any zero-filled space)";
  if (survey.undecodable > 0)
    out << ", " << survey.undecodable << " of them unreadable by this version";
  out << ".\nBackup of the whole log: " << backup.string() << "\n";
  for (const auto& [room, r] : survey.reach) {
    out << "room " << room << ": " << r.records << " dropped records";
    if (r.epoch > 0)
      out << "; they reached epoch " << r.epoch << ", highest position " << r.highest_position
          << ", serving counter " << r.serving;
    out << "\n";
  }
  if (floors.unreadable > 0)
    out << floors.unreadable
        << " bytes of the dropped part could not be read; they could have held up to "
        << floors.margin << " joins, so every room's queue counter is raised by " << floors.margin
        << " positions beyond what the intact records show.\n";
  for (const LogRecord& r : floors.records) {
    const auto& f = std::get<CounterFloorRecord>(r);
    out << "room " << f.room << " continues in epoch " << f.epoch << " after position "
        << f.queue_counter << ", serving counter at least " << f.serving << "\n";
  }
  out << "Tickets and passes that only the dropped records held are lost: their visitors see them "
         "as expired and join again at the end of the line.\n";
}

}  // namespace

int repair_log(const std::filesystem::path& data_dir, std::uint64_t truncate_at, std::ostream& out,
               std::ostream& err) {
  const std::filesystem::path file = data_dir / kLogFileName;
  if (!std::filesystem::exists(file)) {
    err << "waitroom log repair: no log at " << file.string() << "\n";
    return kLogToolFailed;
  }
  auto data = read_whole_file(file);
  if (!data) {
    err << "waitroom log repair: " << data.error().detail << "\n";
    return kLogToolFailed;
  }
  const DurableMark mark = read_mark(mark_path(file));
  auto survey = survey_log(*data, mark, truncate_at);
  if (!survey) {
    err << "waitroom log repair: " << survey.error().detail << "\n";
    return kLogToolFailed;
  }
  out << describe_scan(survey->scan, file, data_dir) << "\n";
  if (auto code = refuse_cut(*survey, truncate_at, out, err)) return *code;
  const std::uint64_t kept = static_cast<std::uint64_t>(
      std::lower_bound(survey->starts.begin(), survey->starts.end(), truncate_at) -
      survey->starts.begin());
  auto backup = back_up_log(file);
  if (!backup) {
    err << "waitroom log repair: " << backup.error().detail << ". Nothing was changed.\n";
    return kLogToolFailed;
  }
  // The mark first, then the cut: a crash in between leaves a log that is intact up to the new mark
  // and damaged after it, and running the repair again finishes the job.
  if (!write_mark_file(mark_path(file), DurableMark{truncate_at, kept, mark.generation}) ||
      !truncate_file(file, truncate_at)) {
    err << "waitroom log repair: cannot cut " << file.string() << " at offset " << truncate_at
        << ": " << std::strerror(errno) << ". The copy " << backup->string()
        << " holds the whole log.\n";
    return kLogToolFailed;
  }
  const CounterFloors floors = counter_floors(*survey, *data, truncate_at);
  if (auto appended = append_durably(file, floors.records); !appended) {
    err << "waitroom log repair: the log was cut at offset " << truncate_at
        << " but the rooms' counter floors could not be written (" << appended.error().detail
        << "). Do not start the server: restore " << backup->string() << " as " << file.string()
        << " and try again.\n";
    return kLogToolFailed;
  }
  report_repair(out, file, *backup, truncate_at, kept, data->size(), *survey, floors);
  return kLogToolOk;
}

}  // namespace waitroom::store
