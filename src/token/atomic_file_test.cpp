#include "token/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testing/files.hpp"
#include "testing/temp_dir.hpp"

namespace waitroom::token {
namespace {

using testing::mode_of;

std::size_t entries_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFile, WritesWithExactModeAndLeavesNoTemp) {
  testing::TempDir dir;
  const auto file = dir.path() / "a";
  const mode_t old_umask = ::umask(077);
  ASSERT_TRUE(write_file_atomically(file, "hello", 0640));
  ::umask(old_umask);
  EXPECT_EQ(mode_of(file), 0640u);  // exact mode, not narrowed by the umask
  EXPECT_EQ(read_small_file(file, 100).value(), "hello");
  EXPECT_EQ(entries_in(dir.path()), 1u);
}

TEST(AtomicFile, ReplacesByDefault) {
  testing::TempDir dir;
  const auto file = dir.path() / "a";
  ASSERT_TRUE(write_file_atomically(file, "one", 0600));
  ASSERT_TRUE(write_file_atomically(file, "two", 0600));
  EXPECT_EQ(read_small_file(file, 100).value(), "two");
  EXPECT_EQ(entries_in(dir.path()), 1u);
}

TEST(AtomicFile, KeepModeLeavesExistingFile) {
  testing::TempDir dir;
  const auto file = dir.path() / "a";
  ASSERT_TRUE(write_file_atomically(file, "first", 0600, IfExists::keep));
  const auto second = write_file_atomically(file, "second", 0600, IfExists::keep);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(read_small_file(file, 100).value(), "first");
  EXPECT_EQ(entries_in(dir.path()), 1u);
}

TEST(AtomicFile, ReadReportsMissingAndOversized) {
  testing::TempDir dir;
  const auto missing = read_small_file(dir.path() / "nope", 10);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);
  ASSERT_TRUE(write_file_atomically(dir.path() / "big", std::string(11, 'x'), 0600));
  const auto big = read_small_file(dir.path() / "big", 10);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, core::ErrorCode::internal);
  EXPECT_TRUE(read_small_file(dir.path() / "big", 11));
}

TEST(AtomicFile, FailsCleanlyInMissingDirectory) {
  testing::TempDir dir;
  const auto result = write_file_atomically(dir.path() / "no" / "a", "x", 0600);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, core::ErrorCode::internal);
}

}  // namespace
}  // namespace waitroom::token
