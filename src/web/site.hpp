#pragma once
// Everything the waiting-room page is made of, loaded once at start: the languages, the built-in
// template, CSS and script, and the themes of the config (a directory with room.html, room.css,
// logo.svg|png and messages/<lang>.json, the theme's wording of the notifications; docs/page.md).
// A theme that fails to load is logged as "file:line: message" and the room gets the default page
// (and the page's wording) instead: a typo in a theme never takes a room's page down.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "token/resume_token.hpp"
#include "web/i18n.hpp"
#include "web/sign_in_state.hpp"
#include "web/template.hpp"

namespace waitroom::config {
struct ServerConfig;
}

namespace waitroom::web {

// A file served with a content hash in its name, so it can be cached for ever.
struct StaticFile {
  std::string name;  // "room.3f2a9c1b0d4e.css"
  std::string content_type;
  std::string data;
  std::string etag;  // "\"<hash>\""
};

struct Theme {
  std::string source;              // the directory, or "built-in"
  const Template* page = nullptr;  // the theme's room.html, or the built-in one
  std::unique_ptr<Template> own_page;
  std::optional<StaticFile> css;
  std::optional<StaticFile> logo;
  // The theme's own wording of the notifications (messages/<lang>.json): language code -> message
  // key (a notify_* key, web/notice_wording.hpp) -> text.
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> messages;
  const StaticFile* file(std::string_view name) const;
  // The theme's text for the message `key` in the language `lang`, or null when it has none.
  const std::string* message(std::string_view lang, std::string_view key) const;
};

// Loads a theme directory. Every file is optional; a room.html is checked against the page's
// variables and translation keys, each messages/*.json must be named for one of `languages` and
// hold only notification messages with their own placeholders. Errors name the file (and line,
// or key): "themes/x/room.html:12: ...", "themes/x/messages/de.json: \"notify_turn_titel\": ...".
core::Result<std::unique_ptr<Theme>> load_theme(const std::filesystem::path& dir,
                                                const Template& default_page,
                                                const Languages& languages);

class Site {
 public:
  // `secret`: the data dir's server secret (resume tokens, sign-in states). Fails only when a
  // built-in file is broken (a build error, caught by the unit tests); theme errors are logged, not
  // returned.
  static core::Result<std::unique_ptr<Site>> create(const config::ServerConfig& config,
                                                    std::string_view secret);

  const Languages& languages() const { return languages_; }
  const token::ResumeTokens& resume_tokens() const { return resume_; }
  const SignInStates& sign_in_states() const { return sign_in_; }
  // The room's theme: its own, else the server-wide one, else the built-in page.
  const Theme& theme_for(std::string_view room) const;
  // A built-in file by its hashed name (served under /r/_assets/).
  const StaticFile* asset(std::string_view name) const;
  const std::string& css_url() const { return css_url_; }
  const std::string& script_url() const { return script_url_; }

 private:
  Languages languages_;
  token::ResumeTokens resume_;
  SignInStates sign_in_;
  std::unique_ptr<Template> default_page_;
  std::vector<StaticFile> assets_;
  std::string css_url_;
  std::string script_url_;
  std::unique_ptr<Theme> builtin_;
  std::unique_ptr<Theme> server_theme_;  // top-level theme_dir
  std::map<std::string, std::unique_ptr<Theme>, std::less<>> room_themes_;

  Site(Languages languages, std::string_view secret)
      : languages_(std::move(languages)), resume_(secret), sign_in_(secret) {}
};

// The first 12 hex digits of the SHA-256 of `data`.
std::string short_hash(std::string_view data);

}  // namespace waitroom::web
