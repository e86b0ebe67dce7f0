#pragma once
// Small POSIX file helpers for key material: a file is either absent or complete, never torn,
// and never readable by anyone but the owner while it is being written.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::token {

enum class IfExists : bool { replace, keep };

// Writes `bytes` to `file` atomically: a temp file in the same directory (created with `mode`),
// fsync, rename over `file`, then fsync of the directory so the rename itself survives power loss.
// With IfExists::keep an existing `file` is left alone (link instead of rename) and the result is
// ErrorCode::conflict, so two processes creating the same file agree on one content.
core::Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view bytes,
                                         mode_t mode, IfExists if_exists = IfExists::replace);

// Reads a whole file of at most `max_bytes` bytes. A missing file is ErrorCode::not_found.
core::Result<std::string> read_small_file(const std::filesystem::path& file, std::size_t max_bytes);

}  // namespace waitroom::token
