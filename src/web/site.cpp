#include "web/site.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "config/server_config.hpp"
#include "ops/log.hpp"
#include "web/embedded_files.hpp"
#include "web/notice_wording.hpp"
#include "web/page_view.hpp"

namespace waitroom::web {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::uintmax_t kMaxThemeFileBytes = 1024 * 1024;  // like Cloudflare's custom page limit

std::string hex(const unsigned char* bytes, std::size_t n) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

StaticFile static_file(std::string_view stem, std::string_view ext, std::string content_type,
                       std::string data) {
  const std::string hash = short_hash(data);
  return StaticFile{std::string(stem) + "." + hash + "." + std::string(ext),
                    std::move(content_type), std::move(data), "\"" + hash + "\""};
}

// Reads a theme file; nullopt when it does not exist, an error when it cannot be read or is
// too large.
core::Result<std::optional<std::string>> read_optional(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::optional<std::string>{};
  if (!std::filesystem::is_regular_file(file, ec))
    return fail(ErrorCode::bad_request, file.string() + ": not a regular file");
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return fail(ErrorCode::bad_request, file.string() + ": " + ec.message());
  if (size > kMaxThemeFileBytes)
    return fail(ErrorCode::bad_request,
                file.string() + ": larger than " + std::to_string(kMaxThemeFileBytes) + " bytes");
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::bad_request, file.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return std::optional<std::string>(text.str());
}

// The theme's wording of the notifications: messages/<lang>.json for any of the page's languages.
// Other files in messages/ are left alone (a README); a .json not named for a language is an
// error, so that a typo ("en-US.json", "EN.json") is not silently unused.
core::Result<std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>>>
read_theme_messages(const std::filesystem::path& dir, const Languages& languages) {
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  if (!std::filesystem::is_directory(dir, ec))
    return fail(ErrorCode::bad_request, dir.string() + ": not a directory");
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json") files.push_back(it->path());
  if (ec) return fail(ErrorCode::bad_request, dir.string() + ": " + ec.message());
  std::ranges::sort(files);  // the first mistake in a stable order
  for (const std::filesystem::path& file : files) {
    const std::string lang = file.stem().string();
    if (!languages.supports(lang)) {
      std::string codes;
      for (const std::string& code : languages.codes()) codes += (codes.empty() ? "" : ", ") + code;
      return fail(ErrorCode::bad_request,
                  file.string() + ": not named for one of the page's languages (" + codes + ")");
    }
    auto text = read_optional(file);
    if (!text) return std::unexpected(text.error());
    if (!*text) continue;
    auto messages = parse_notice_messages(**text, file.string());
    if (!messages) return std::unexpected(messages.error());
    out.emplace(lang, std::move(*messages));
  }
  return out;
}

}  // namespace

std::string short_hash(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return hex(digest, 6);
}

const StaticFile* Theme::file(std::string_view name) const {
  if (css && css->name == name) return &*css;
  if (logo && logo->name == name) return &*logo;
  return nullptr;
}

const std::string* Theme::message(std::string_view lang, std::string_view key) const {
  const auto in = messages.find(lang);
  if (in == messages.end()) return nullptr;
  const auto it = in->second.find(key);
  return it == in->second.end() ? nullptr : &it->second;
}

core::Result<std::unique_ptr<Theme>> load_theme(const std::filesystem::path& dir,
                                                const Template& default_page,
                                                const Languages& languages) {
  const Translations& english = languages.english();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return fail(ErrorCode::bad_request, dir.string() + ": not a directory");
  auto theme = std::make_unique<Theme>();
  theme->source = dir.string();
  theme->page = &default_page;

  const std::filesystem::path html_file = dir / "room.html";
  auto html = read_optional(html_file);
  if (!html) return std::unexpected(html.error());
  if (*html) {
    auto parsed = Template::parse(**html, html_file.string(), page_schema(), english);
    if (!parsed) return fail(ErrorCode::bad_request, parsed.error().to_string());
    theme->own_page = std::make_unique<Template>(std::move(*parsed));
    theme->page = theme->own_page.get();
  }
  auto css = read_optional(dir / "room.css");
  if (!css) return std::unexpected(css.error());
  if (*css) theme->css = static_file("theme", "css", "text/css; charset=utf-8", std::move(**css));
  auto svg = read_optional(dir / "logo.svg");
  if (!svg) return std::unexpected(svg.error());
  auto png = read_optional(dir / "logo.png");
  if (!png) return std::unexpected(png.error());
  if (*svg && *png)
    return fail(ErrorCode::bad_request,
                dir.string() + ": has both logo.svg and logo.png; keep one");
  if (*svg) theme->logo = static_file("logo", "svg", "image/svg+xml", std::move(**svg));
  if (*png) {
    if ((*png)->compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
      return fail(ErrorCode::bad_request, (dir / "logo.png").string() + ": not a PNG file");
    theme->logo = static_file("logo", "png", "image/png", std::move(**png));
  }
  auto messages = read_theme_messages(dir / "messages", languages);
  if (!messages) return std::unexpected(messages.error());
  theme->messages = std::move(*messages);
  return theme;
}

core::Result<std::unique_ptr<Site>> Site::create(const config::ServerConfig& config,
                                                 std::string_view secret) {
  auto languages = Languages::load_embedded();
  if (!languages) return std::unexpected(languages.error());
  std::unique_ptr<Site> site(new Site(std::move(*languages), secret));
  const Catalog& english = site->languages_.english();

  const EmbeddedFile* html = embedded_file("room.html");
  const EmbeddedFile* css = embedded_file("room.css");
  const EmbeddedFile* js = embedded_file("room.js");
  if (!html || !css || !js)
    return fail(ErrorCode::internal, "web: a built-in page file is not compiled in");
  auto page = Template::parse(html->data, "(built-in) room.html", page_schema(), english);
  if (!page) return fail(ErrorCode::internal, "web: " + page.error().to_string());
  site->default_page_ = std::make_unique<Template>(std::move(*page));
  site->assets_.push_back(
      static_file("room", "css", "text/css; charset=utf-8", std::string(css->data)));
  site->assets_.push_back(
      static_file("room", "js", "text/javascript; charset=utf-8", std::string(js->data)));
  site->css_url_ = "/r/_assets/" + site->assets_[0].name;
  site->script_url_ = "/r/_assets/" + site->assets_[1].name;

  site->builtin_ = std::make_unique<Theme>();
  site->builtin_->source = "built-in";
  site->builtin_->page = site->default_page_.get();

  auto load = [&](const std::filesystem::path& dir,
                  std::string_view scope) -> std::unique_ptr<Theme> {
    auto theme = load_theme(dir, *site->default_page_, site->languages_);
    if (theme) {
      ops::log_info("theme loaded", {{"theme_dir", dir.string()}, {"for", scope}});
      return std::move(*theme);
    }
    ops::log_error("theme: " + theme.error().detail + " (the default page is used instead)",
                   {{"theme_dir", dir.string()}, {"for", scope}});
    return nullptr;
  };
  if (!config.theme_dir.empty()) site->server_theme_ = load(config.theme_dir, "every room");
  for (const auto& [room, dir] : config.room_theme_dirs) {
    if (auto theme = load(dir, "room " + room)) site->room_themes_.emplace(room, std::move(theme));
  }
  return site;
}

const Theme& Site::theme_for(std::string_view room) const {
  if (auto it = room_themes_.find(room); it != room_themes_.end()) return *it->second;
  if (server_theme_) return *server_theme_;
  return *builtin_;
}

const StaticFile* Site::asset(std::string_view name) const {
  for (const StaticFile& f : assets_)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace waitroom::web
