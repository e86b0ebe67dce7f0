#pragma once
// Looking at files the code under test wrote: their permission bits.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace waitroom::testing {

inline mode_t mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

}  // namespace waitroom::testing
