#include "token/secret.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testing/temp_dir.hpp"
#include "token/atomic_file.hpp"

namespace waitroom::token {
namespace {

TEST(Secret, CreatesOwnerOnlyFileOf32Bytes) {
  testing::TempDir dir;
  const auto file = dir.path() / "secret";
  const auto secret = load_or_create_secret(file);
  ASSERT_TRUE(secret) << secret.error().detail;
  EXPECT_EQ(secret->size(), kSecretBytes);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(read_small_file(file, 100).value(), *secret);
}

TEST(Secret, ReadsBackTheSameSecret) {
  testing::TempDir dir;
  const auto file = dir.path() / "secret";
  const auto first = load_or_create_secret(file);
  const auto second = load_or_create_secret(file);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);
}

TEST(Secret, DifferentFilesGetDifferentSecrets) {
  testing::TempDir dir;
  EXPECT_NE(load_or_create_secret(dir.path() / "a").value(),
            load_or_create_secret(dir.path() / "b").value());
}

TEST(Secret, RejectsWrongSize) {
  testing::TempDir dir;
  for (const std::size_t size : {std::size_t{0}, kSecretBytes - 1, kSecretBytes + 1}) {
    const auto file = dir.path() / ("s" + std::to_string(size));
    ASSERT_TRUE(write_file_atomically(file, std::string(size, 'k'), 0600));
    const auto secret = load_or_create_secret(file);
    ASSERT_FALSE(secret) << size;
    EXPECT_EQ(secret.error().code, core::ErrorCode::internal);
  }
}

TEST(Secret, FailsWhenDirectoryIsMissing) {
  testing::TempDir dir;
  EXPECT_FALSE(load_or_create_secret(dir.path() / "missing" / "secret"));
}

}  // namespace
}  // namespace waitroom::token
