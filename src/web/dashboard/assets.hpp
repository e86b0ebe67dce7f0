#pragma once
// The dashboard's HTML templates, stylesheet and script, compiled into the binary from
// src/web/dashboard/assets/ (CMake's waitroom_embed_dashboard_assets writes the table).
#include <string_view>

namespace waitroom::web::dashboard {

struct Asset {
  std::string_view name;  // file name in assets/, e.g. "dashboard.js"
  std::string_view content;
  std::string_view sha256;  // hex, of the content: the ETag
};

// The embedded file of that name; null when there is none.
const Asset* find_asset(std::string_view name);

}  // namespace waitroom::web::dashboard
