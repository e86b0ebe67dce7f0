#include "store/embedded/durable_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "store/embedded/log_format.hpp"
#include "testing/temp_dir.hpp"

namespace waitroom::store {
namespace {

using waitroom::testing::TempDir;

// Sizes of the v2 framing: the framing marker (a v1 frame) and a record's frame.
constexpr std::uintmax_t kMarkerBytes = kV1HeaderBytes + kFramingMarker.size();
constexpr std::uintmax_t frame(std::size_t payload) { return kV2HeaderBytes + payload; }

// Replays and expects a refusal; returns its message.
std::string refusal(const std::filesystem::path& file) {
  auto log = DurableLog::open(file, true).value();
  auto n = log->replay([](std::string_view) -> core::Result<void> { return {}; });
  EXPECT_FALSE(n.has_value()) << "replayed " << (n ? *n : 0) << " records of a damaged log";
  return n ? "" : n.error().detail;
}

void overwrite(const std::filesystem::path& file, std::uint64_t offset, const std::string& bytes) {
  const int fd = ::open(file.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::vector<std::string> replay_all(DurableLog& log) {
  std::vector<std::string> out;
  auto n = log.replay([&](std::string_view p) -> core::Result<void> {
    out.emplace_back(p);
    return {};
  });
  EXPECT_TRUE(n.has_value());
  return out;
}

// Appends, waits until durable through async_wait as a request would, then stops.
void write_records(const std::filesystem::path& file, const std::vector<std::string>& records) {
  auto log = DurableLog::open(file, true).value();
  replay_all(*log);
  log->start();
  boost::asio::io_context ctx;
  int completed = 0;
  for (const auto& r : records) {
    const auto lsn = log->append(r);
    log->async_wait(lsn, boost::asio::bind_executor(ctx, [&](bool ok) {
                      EXPECT_TRUE(ok);
                      ++completed;
                    }));
  }
  while (completed < static_cast<int>(records.size())) ctx.run_one();
  log->stop();
}

TEST(DurableLog, ReplaysWhatWasAcknowledged) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"one", "two", std::string(1000, 'x')});
  write_records(file, {"four"});
  auto log = DurableLog::open(file, true).value();
  EXPECT_EQ(replay_all(*log),
            (std::vector<std::string>{"one", "two", std::string(1000, 'x'), "four"}));
}

TEST(DurableLog, CutsATornTailAndKeepsAppending) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"alpha", "beta"});
  const std::uintmax_t intact_size = kMarkerBytes + frame(5) + frame(4);
  std::filesystem::resize_file(file, intact_size);  // drop the zero-filled space ahead
  {
    // A crash in the middle of a write: a header promising more bytes than follow.
    std::ofstream out(file, std::ios::app | std::ios::binary);
    const std::uint32_t len = 100, crc = 0;
    const std::uint64_t seq = 3;
    out.write(reinterpret_cast<const char*>(&len), 4).write(reinterpret_cast<const char*>(&crc), 4);
    out.write(reinterpret_cast<const char*>(&seq), 8) << "gam";
  }
  {
    auto log = DurableLog::open(file, true).value();
    EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"alpha", "beta"}));
    EXPECT_EQ(std::filesystem::file_size(file), intact_size);
  }
  write_records(file, {"gamma"});
  auto log = DurableLog::open(file, true).value();
  EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"alpha", "beta", "gamma"}));
}

TEST(DurableLog, KeepsZeroFilledSpaceAheadAndStopsThere) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"one"});
  EXPECT_GT(std::filesystem::file_size(file), 1u << 20);  // preallocated
  write_records(file, {"two"});                           // replay stopped at the zeros
  auto log = DurableLog::open(file, true).value();
  EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"one", "two"}));
}

TEST(DurableLog, RefusesAFlippedByteWithIntactRecordsAfterIt) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"first", "second", "third"});
  const auto size = std::filesystem::file_size(file);
  const std::uint64_t second = kMarkerBytes + frame(5);
  overwrite(file, second + kV2HeaderBytes + 1, "X");  // one byte of the second payload
  const std::string why = refusal(file);
  EXPECT_NE(why.find("is damaged at offset " + std::to_string(second)), std::string::npos) << why;
  EXPECT_NE(why.find("1 records were read before it; 1 intact records follow it"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("waitroom log repair --data-dir " + dir.path().string() + " --truncate-at " +
                     std::to_string(second)),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("waitroom log check"), std::string::npos) << why;
  EXPECT_EQ(std::filesystem::file_size(file), size);  // nothing was cut
}

TEST(DurableLog, RefusesADamagedLengthAndFindsTheRecordsAfterIt) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"a", "bb", "ccc", "dddd"});
  overwrite(file, kMarkerBytes + frame(1), std::string("\xff\xff\x00\x00", 4));  // bb's length
  const std::string why = refusal(file);
  EXPECT_NE(why.find("1 records were read before it; 2 intact records follow it"),
            std::string::npos)
      << why;
}

TEST(DurableLog, AZeroedPageWithRecordsAfterItIsDamageNotTheEnd) {
  TempDir dir;
  const auto file = dir.path() / "log";
  std::vector<std::string> records;
  for (int i = 0; i < 400; ++i)
    records.push_back("record-" + std::to_string(i) + std::string(20, 'r'));
  write_records(file, records);
  overwrite(file, 4096, std::string(4096, '\0'));
  const std::string why = refusal(file);
  EXPECT_NE(why.find("is damaged at offset 40"), std::string::npos)
      << why;  // 40xx: the record across 4096
  EXPECT_NE(why.find("intact records follow it (from offset 8"), std::string::npos) << why;  // 81xx
}

TEST(DurableLog, RefusesALogCutBeforeItsDurableEnd) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"one", "two", "three"});
  // The last record was acknowledged, so the mark covers it: a cut there is damage, not a tear.
  std::filesystem::resize_file(file, kMarkerBytes + frame(3) + frame(3) + frame(5) - 2);
  EXPECT_NE(refusal(file).find("before the durable end"), std::string::npos);
  // Cut at a record boundary: the file ends early.
  std::filesystem::resize_file(file, kMarkerBytes + frame(3));
  EXPECT_NE(refusal(file).find("the file ends there, before the durable end"), std::string::npos);
}

TEST(DurableLog, ATornWritePastTheDurableEndIsCutEvenWithoutAMark) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"one", "two", "three"});
  // As if the process died after writing "three" but before its sync: the mark lost it.
  std::filesystem::remove(mark_path(file));
  std::filesystem::resize_file(file, kMarkerBytes + frame(3) + frame(3) + frame(5) - 2);
  {
    auto log = DurableLog::open(file, true).value();
    EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"one", "two"}));
  }
  EXPECT_EQ(std::filesystem::file_size(file), kMarkerBytes + frame(3) + frame(3));
}

TEST(DurableLog, ReadsALogWrittenBeforeVersion2AndSwitchesFramingAtTheNextAppend) {
  TempDir dir;
  const auto file = dir.path() / "log";
  {
    std::string old;  // [u32 len][u32 crc][payload], as every earlier version wrote it
    append_v1_frame(old, "old-1");
    append_v1_frame(old, "old-2");
    std::ofstream(file, std::ios::binary) << old << std::string(100, '\0');
  }
  write_records(file, {"new-3"});
  auto data = read_whole_file(file).value();
  auto scan = scan_log(data, read_mark(mark_path(file)), {}).value();
  EXPECT_EQ(scan.outcome, LogScan::Outcome::clean);
  EXPECT_TRUE(scan.v2);
  EXPECT_EQ(scan.records, 3u);
  EXPECT_EQ(scan.intact_end, 2 * (kV1HeaderBytes + 5) + kMarkerBytes + frame(5));
  auto log = DurableLog::open(file, true).value();
  EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"old-1", "old-2", "new-3"}));
}

TEST(DurableLog, DamageInAnOldLogIsRefusedToo) {
  TempDir dir;
  const auto file = dir.path() / "log";
  std::string old;
  for (int i = 0; i < 5; ++i) append_v1_frame(old, "old-record-" + std::to_string(i));
  old[kV1HeaderBytes + 3] ^= 0x01;
  std::ofstream(file, std::ios::binary) << old;
  const std::string why = refusal(file);
  EXPECT_NE(why.find("damaged at offset 0"), std::string::npos) << why;
  EXPECT_NE(why.find("0 records were read before it; 4 intact records follow it"),
            std::string::npos)
      << why;
}

TEST(LogScan, OutOfSequenceRecordsAreNotTakenForTheLogsOwn) {
  std::string data;
  append_v1_frame(data, kFramingMarker);
  append_v2_frame(data, "one", 1);
  append_v2_frame(data, "two", 2);
  std::string torn = data;
  append_v2_frame(torn, "three", 3);
  torn.resize(torn.size() - 2);  // a torn last write
  std::string stale = data;
  append_v2_frame(stale, "stale", 1);  // intact framing, an earlier number: not this log's order
  append_v2_frame(data, "four", 4);    // intact, but record 3 is missing before it
  auto scan = scan_log(torn, {}, {}).value();
  EXPECT_EQ(scan.outcome, LogScan::Outcome::torn_tail);
  EXPECT_EQ(scan.records, 2u);
  scan = scan_log(stale, {}, {}).value();
  EXPECT_EQ(scan.outcome, LogScan::Outcome::torn_tail);
  EXPECT_EQ(scan.records, 2u);
  EXPECT_NE(scan.reason.find("out of sequence"), std::string::npos);
  scan = scan_log(data, {}, {}).value();
  EXPECT_EQ(scan.outcome, LogScan::Outcome::damaged);
  EXPECT_EQ(scan.records, 2u);
  EXPECT_EQ(scan.valid_after, 1u);
}

TEST(DurableLog, RelaxedModeAcknowledgesAfterWrite) {
  TempDir dir;
  const auto file = dir.path() / "log";
  {
    auto log = DurableLog::open(file, false).value();
    replay_all(*log);
    log->start();
    boost::asio::io_context ctx;
    bool done = false;
    log->async_wait(log->append("relaxed"),
                    boost::asio::bind_executor(ctx, [&](bool ok) { done = ok; }));
    while (!done) ctx.run_one();
    EXPECT_EQ(log->bytes_on_disk(),
              kMarkerBytes + frame(7));  // written (page cache) when acknowledged
    log->stop();
  }
  auto log = DurableLog::open(file, true).value();
  EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"relaxed"}));
}

// The file size limit (RLIMIT_FSIZE) stands in for a full disk: writes past it fail with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // the write fails instead of killing us
    const rlimit limit{bytes, saved_.rlim_max};
    EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  void lift() { setrlimit(RLIMIT_FSIZE, &saved_); }
  ~FileSizeLimit() {
    lift();
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

bool wait_for(boost::asio::io_context& ctx, DurableLog& log, std::uint64_t lsn) {
  std::optional<bool> result;
  ctx.restart();  // a context that ran out of work stays stopped until restarted
  log.async_wait(lsn, boost::asio::bind_executor(ctx, [&](bool ok) { result = ok; }));
  while (!result) ctx.run_one();
  return *result;
}

TEST(DurableLog, AFullDiskRefusesChangesThenRecoversByItselfWithoutLosingThem) {
  TempDir dir;
  const auto file = dir.path() / "log";
  boost::asio::io_context ctx;
  std::size_t big_size = 0;
  {
    auto log = DurableLog::open(file, true).value();
    replay_all(*log);
    log->start();
    ASSERT_TRUE(wait_for(ctx, *log, log->append("before")));
    const auto size = std::filesystem::file_size(file);  // the record and the zeros ahead
    FileSizeLimit full(size);
    // Bigger than the zero-filled space ahead: the log must grow the file, and cannot.
    big_size = size + 1;
    const std::string big(big_size, 'b');
    EXPECT_FALSE(wait_for(ctx, *log, log->append(big)));
    EXPECT_TRUE(log->failed());
    EXPECT_FALSE(wait_for(ctx, *log, log->append("during")));  // refused while the disk is full
    full.lift();                                               // space returns
    for (int i = 0; i < 300 && log->failed(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(log->failed()) << "still failed 3 s after space returned";
    EXPECT_TRUE(wait_for(ctx, *log, log->append("after")));
    log->stop();
  }
  // The records refused while full were kept and written once space returned (they are applied
  // in memory already), in order, and nothing acknowledged is missing.
  auto log = DurableLog::open(file, true).value();
  const auto records = replay_all(*log);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0], "before");
  EXPECT_EQ(records[1], std::string(big_size, 'b'));
  EXPECT_EQ(records[2], "during");
  EXPECT_EQ(records[3], "after");
}

TEST(DurableLog, ShrinksPreallocationToTheSpaceThereIs) {
  TempDir dir;
  const auto file = dir.path() / "log";
  boost::asio::io_context ctx;
  auto log = DurableLog::open(file, true).value();
  replay_all(*log);
  log->start();
  ASSERT_TRUE(wait_for(ctx, *log, log->append("before")));
  const auto size = std::filesystem::file_size(file);  // the record and the zeros ahead
  // Room for a record past the zero-filled space, but not for zeros ahead of it: the record is
  // written all the same (the zero-fill used to fail the batch).
  FileSizeLimit small(size + 4096);
  const std::string big(size - log->bytes_on_disk() + 1024, 'b');
  EXPECT_TRUE(wait_for(ctx, *log, log->append(big)));
  EXPECT_FALSE(log->failed());
  EXPECT_TRUE(wait_for(ctx, *log, log->append("small")));
  // And a record that truly does not fit is refused.
  EXPECT_FALSE(wait_for(ctx, *log, log->append(std::string(8192, 'c'))));
  small.lift();
  for (int i = 0; i < 300 && log->failed(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  log->stop();
}

}  // namespace
}  // namespace waitroom::store
