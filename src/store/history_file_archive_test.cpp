#include "store/history_file_archive.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/temp_dir.hpp"

namespace waitroom::store {
namespace {

using waitroom::testing::TempDir;
namespace fs = std::filesystem;

constexpr std::int64_t kDay = 1'699'920'000'000;  // 2023-11-14T00:00Z
constexpr std::int64_t kMinute = 60'000;

MinuteAggregate minute(std::int64_t at_ms, std::uint64_t arrivals) {
  MinuteAggregate m;
  m.minute_ms = at_ms;
  m.arrivals = arrivals;
  m.end.tickets = arrivals * 10;
  return m;
}

std::vector<std::uint64_t> arrivals(const std::vector<MinuteAggregate>& minutes) {
  std::vector<std::uint64_t> out;
  for (const auto& m : minutes) out.push_back(m.arrivals);
  return out;
}

std::string content(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(HistoryFileArchive, KeepsMinutesPerRoomAndDayAcrossReopening) {
  TempDir dir;
  {
    HistoryFileArchive archive(dir.path() / "history", 7);
    ASSERT_TRUE(archive.append({{"a", minute(kDay + 10 * kMinute, 1)},
                                {"b", minute(kDay + 10 * kMinute, 100)},
                                {"a", minute(kDay + 11 * kMinute, 2)}}));
    // The next day goes to the next file.
    ASSERT_TRUE(archive.append({{"a", minute(kDay + 1440 * kMinute, 3)}}));
  }
  EXPECT_TRUE(fs::exists(dir.path() / "history" / "a" / "2023-11-14.log"));
  EXPECT_TRUE(fs::exists(dir.path() / "history" / "a" / "2023-11-15.log"));
  HistoryFileArchive archive(dir.path() / "history", 7);
  auto all = archive.read("a", kDay, kDay + 2 * 1440 * kMinute);
  ASSERT_TRUE(all);
  EXPECT_EQ(arrivals(*all), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ((*all)[1].end.tickets, 20u);
  // [from, to): a minute starting at `to` is not in.
  EXPECT_EQ(arrivals(*archive.read("a", kDay + 11 * kMinute, kDay + 1440 * kMinute)),
            (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(arrivals(*archive.read("b", kDay, kDay + 1440 * kMinute)),
            (std::vector<std::uint64_t>{100}));
  EXPECT_TRUE(archive.read("nobody", kDay, kDay + 1440 * kMinute)->empty());
  auto latest = archive.latest("a", kDay + 1441 * kMinute);
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ((*latest)->arrivals, 3u);
  // Only minutes that started before "now" are a base to count from.
  EXPECT_EQ((*archive.latest("a", kDay + 1440 * kMinute))->arrivals, 2u);
}

TEST(HistoryFileArchive, AMinuteWrittenTwiceReadsAsItsFirstCopy) {
  TempDir dir;
  HistoryFileArchive first(dir.path(), 7);
  ASSERT_TRUE(first.append({{"a", minute(kDay, 1)}}));
  ASSERT_TRUE(first.append({{"a", minute(kDay, 2)}}));  // skipped by this process
  HistoryFileArchive second(dir.path(), 7);             // another run, its clock set back
  ASSERT_TRUE(second.append({{"a", minute(kDay, 3)}, {"a", minute(kDay + kMinute, 4)}}));
  EXPECT_EQ(arrivals(*second.read("a", kDay, kDay + kMsPerDay)),
            (std::vector<std::uint64_t>{1, 4}));
}

TEST(HistoryFileArchive, ATornLastLineIsSkippedAndCutBeforeTheNextAppend) {
  TempDir dir;
  HistoryFileArchive archive(dir.path(), 7);
  ASSERT_TRUE(archive.append({{"a", minute(kDay, 1)}, {"a", minute(kDay + kMinute, 2)}}));
  const fs::path file = archive.day_file("a", kDay);
  const std::string whole = content(file);
  // A crash in the middle of the second line.
  fs::resize_file(file, whole.size() - 20);
  EXPECT_EQ(arrivals(*archive.read("a", kDay, kDay + kMsPerDay)), (std::vector<std::uint64_t>{1}));
  // And garbage where a line should be (a block of zeros after a power loss) reads as nothing.
  HistoryFileArchive reopened(dir.path(), 7);
  ASSERT_TRUE(reopened.append({{"a", minute(kDay + 2 * kMinute, 3)}}));
  EXPECT_EQ(arrivals(*reopened.read("a", kDay, kDay + kMsPerDay)),
            (std::vector<std::uint64_t>{1, 3}));
  const std::string repaired = content(file);
  EXPECT_EQ(repaired.substr(0, whole.find('\n') + 1), whole.substr(0, whole.find('\n') + 1));
  EXPECT_EQ(std::count(repaired.begin(), repaired.end(), '\n'), 2);
  {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out << std::string(64, '\0') << "\n";
  }
  EXPECT_EQ(arrivals(*reopened.read("a", kDay, kDay + kMsPerDay)),
            (std::vector<std::uint64_t>{1, 3}));
}

TEST(HistoryFileArchive, PruningDropsOldDaysAndRoomsThatAreGone) {
  TempDir dir;
  HistoryFileArchive archive(dir.path(), 2);
  for (int d = 0; d < 5; ++d)
    ASSERT_TRUE(archive.append({{"a", minute(kDay + d * kMsPerDay, static_cast<std::uint64_t>(d))},
                                {"gone", minute(kDay + d * kMsPerDay, 9)}}));
  const fs::path stray = dir.path() / "a" / "notes.txt";  // not a day's file: left alone
  std::ofstream(stray) << "x";
  const std::int64_t now = kDay + 4 * kMsPerDay + 5 * kMinute;  // in the fifth day
  EXPECT_EQ(archive.kept_from_ms(now), kDay + 2 * kMsPerDay);
  ASSERT_TRUE(archive.prune(now, {"a"}));
  EXPECT_FALSE(fs::exists(dir.path() / "gone"));
  EXPECT_FALSE(fs::exists(archive.day_file("a", kDay + kMsPerDay)));
  EXPECT_TRUE(fs::exists(archive.day_file("a", kDay + 2 * kMsPerDay)));
  EXPECT_TRUE(fs::exists(stray));
  EXPECT_EQ(arrivals(*archive.read("a", kDay, kDay + 5 * kMsPerDay)),
            (std::vector<std::uint64_t>{2, 3, 4}));
  ASSERT_TRUE(archive.forget("a", now));
  EXPECT_FALSE(fs::exists(dir.path() / "a"));
  // A room created again with the same name starts afresh.
  ASSERT_TRUE(archive.append({{"a", minute(kDay + kMinute, 7)}}));
  EXPECT_EQ(arrivals(*archive.read("a", kDay, kDay + kMsPerDay)), (std::vector<std::uint64_t>{7}));
}

TEST(HistoryFileArchive, AFolderThatCannotBeWrittenIsAnError) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  HistoryFileArchive archive(dir.path() / "file", 7);  // a file where the folder should be
  EXPECT_FALSE(archive.append({{"a", minute(kDay, 1)}}));
  EXPECT_TRUE(archive.read("a", kDay, kDay + kMsPerDay)->empty());
}

}  // namespace
}  // namespace waitroom::store
