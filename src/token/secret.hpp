#pragma once
// The server's HMAC secret (ticket ids): 32 random bytes kept in one owner-only file, created on
// first start and reused afterwards so ids stay valid across restarts.
#include <cstddef>
#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace waitroom::token {

inline constexpr std::size_t kSecretBytes = 32;

// Reads `file` if it exists (error if it is not exactly kSecretBytes long); otherwise creates it
// with kSecretBytes from RAND_bytes, mode 0600, atomically (temp + fsync + rename).
core::Result<std::string> load_or_create_secret(const std::filesystem::path& file);

}  // namespace waitroom::token
