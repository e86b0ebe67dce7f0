// Fuzzes the page template language (src/web/template.cpp): a theme's room.html is operator
// input, parsed at start and rendered for every visitor. Any text must parse or fail with a
// file:line error, and whatever parses must render without crashing. The schema and translations
// are the real page's (page_schema(), the embedded English strings), so the built-in room.html
// is a seed.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "web/i18n.hpp"
#include "web/page_view.hpp"
#include "web/template.hpp"

namespace {

using waitroom::web::TemplateData;
using waitroom::web::VarKind;

const waitroom::web::Languages& languages() {
  static const waitroom::web::Languages langs = [] {
    auto l = waitroom::web::Languages::load_embedded();
    if (!l) std::abort();
    return std::move(*l);
  }();
  return langs;
}

// Every variable set, text ones to something that needs escaping, so every branch renders.
const TemplateData& full_data() {
  static const TemplateData data = [] {
    TemplateData d;
    for (const auto& [name, kind] : waitroom::web::page_schema().vars) {
      if (kind == VarKind::flag)
        d.flag(name, true);
      else if (kind == VarKind::raw)
        d.set(name, "<b>raw</b>");
      else
        d.set(name, "<\"it's\"> & 42");
    }
    return d;
  }();
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& english = languages().english();
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tpl =
      waitroom::web::Template::parse(source, "room.html", waitroom::web::page_schema(), english);
  if (!tpl) {
    if (tpl.error().line < 1) __builtin_trap();  // errors point at a line of the file
    return 0;
  }
  tpl->render(full_data(), english);
  tpl->render(TemplateData{}, english);
  // The same source in another language: translations with other placeholders and lengths.
  tpl->render(full_data(), languages().get("de"));
  return 0;
}
