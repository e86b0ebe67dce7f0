#include "web/embedded_files.hpp"

#include <algorithm>

namespace waitroom::web {

const EmbeddedFile* embedded_file(std::string_view path) {
  const auto files = embedded_files();
  auto it = std::lower_bound(files.begin(), files.end(), path,
                             [](const EmbeddedFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

}  // namespace waitroom::web
