#pragma once
// The files of src/web/assets/ (page template, CSS, JS, translations), compiled into the binary
// by src/web/embed_assets.cmake.
#include <span>
#include <string_view>

namespace waitroom::web {

struct EmbeddedFile {
  std::string_view path;  // relative to src/web/assets/, e.g. "i18n/de.json"
  std::string_view data;
  std::string_view sha256;  // hex, of data
};

// Sorted by path.
std::span<const EmbeddedFile> embedded_files();
// The file at `path`, or nullptr.
const EmbeddedFile* embedded_file(std::string_view path);

}  // namespace waitroom::web
