#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace waitroom::app {

struct ServeOptions {
  std::filesystem::path config_file;
  std::optional<std::string> listen;
  std::optional<std::filesystem::path> data_dir;
  std::optional<unsigned> threads;
  std::optional<std::string> durability;
};

// Runs the server until SIGTERM/SIGINT. Returns the process exit code.
int serve(const ServeOptions& options);
// Prints "METHOD PATTERN" for every route the server answers (the OpenAPI test reads this).
int print_routes();
// Appends `tickets` queued tickets to `room` in `data_dir` without a server (benchmarks).
int bench_fill(const std::filesystem::path& data_dir, const std::string& room,
               std::uint64_t tickets, const std::filesystem::path& config_file);

}  // namespace waitroom::app
