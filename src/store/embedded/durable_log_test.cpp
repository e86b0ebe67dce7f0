#include "store/embedded/durable_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <fstream>

#include "testing/temp_dir.hpp"

namespace waitroom::store {
namespace {

using waitroom::testing::TempDir;

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
  EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"one", "two", std::string(1000, 'x'), "four"}));
}

TEST(DurableLog, CutsATornTailAndKeepsAppending) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"alpha", "beta"});
  const std::uintmax_t intact_size = (8 + 5) + (8 + 4);
  std::filesystem::resize_file(file, intact_size);  // drop the zero-filled space ahead
  {
    // A crash in the middle of a write: a header promising more bytes than follow.
    std::ofstream out(file, std::ios::app | std::ios::binary);
    const std::uint32_t len = 100, crc = 0;
    out.write(reinterpret_cast<const char*>(&len), 4).write(reinterpret_cast<const char*>(&crc), 4) << "gam";
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

TEST(DurableLog, StopsAtACorruptRecord) {
  TempDir dir;
  const auto file = dir.path() / "log";
  write_records(file, {"first", "second", "third"});
  {
    // Flip one byte of the second payload.
    const int fd = ::open(file.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const off_t second_payload = 8 + 5 + 8;
    ASSERT_EQ(::pwrite(fd, "X", 1, second_payload), 1);
    ::close(fd);
  }
  auto log = DurableLog::open(file, true).value();
  EXPECT_EQ(replay_all(*log), (std::vector<std::string>{"first"}));
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
    log->async_wait(log->append("relaxed"), boost::asio::bind_executor(ctx, [&](bool ok) { done = ok; }));
    while (!done) ctx.run_one();
    EXPECT_EQ(log->bytes_on_disk(), 8u + 7u);  // written (page cache) when acknowledged
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
    full.lift();  // space returns
    for (int i = 0; i < 300 && log->failed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
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
