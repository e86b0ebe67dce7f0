// Fuzzes the config file reader (src/config/server_config.cpp): TOML text → ServerConfig through
// load_config(), the function `waitroom serve --config` calls. Every input must end in a config or
// an error naming a key; nothing else (no crash, no exception escaping, no hang).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/server_config.hpp"

namespace {

// load_config reads a file, so each input is written to one private temporary file first.
const std::filesystem::path& input_file() {
  static const std::filesystem::path path = [] {
    std::string name =
        (std::filesystem::temp_directory_path() / "waitroom-fuzz-config-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) std::abort();
    ::close(fd);
    std::atexit([] { std::filesystem::remove(input_file()); });
    return std::filesystem::path(name);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {
    std::ofstream out(input_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto cfg = waitroom::config::load_config(input_file());
  // A config that loaded must be one the server can start from: its listen address parses.
  if (cfg && !waitroom::config::parse_listen(cfg->listen)) std::abort();
  return 0;
}
