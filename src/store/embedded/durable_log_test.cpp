#include "store/embedded/durable_log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

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

}  // namespace
}  // namespace waitroom::store
