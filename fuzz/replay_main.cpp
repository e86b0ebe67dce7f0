// Stands in for libFuzzer's main where there is no clang: runs LLVMFuzzerTestOneInput once over
// every file in the directories (or files) given, so ctest replays the seed corpus and the inputs
// of fixed findings under the build's sanitizers. A crash is the failure; the exit code is 0 when
// every input ran, 1 when an argument could not be read or named no input at all.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

bool run_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "replay: cannot read " << file << "\n";
    return false;
  }
  // A vector, not a string: an exact-size heap block, so ASan catches reads past the input.
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::size_t inputs = 0;
  bool ok = argc > 1;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else {
      files.push_back(arg);
    }
    if (files.empty()) {
      std::cerr << "replay: no inputs in " << arg << "\n";
      ok = false;
    }
    for (const auto& f : files) {
      ok = run_file(f) && ok;
      ++inputs;
    }
  }
  std::cout << "replay: " << inputs << " inputs\n";
  return ok ? 0 : 1;
}
