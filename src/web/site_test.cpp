#include "web/site.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "config/server_config.hpp"
#include "web/embedded_files.hpp"
#include "web/page_view.hpp"

namespace waitroom::web {
namespace {

namespace fs = std::filesystem;

class ThemeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("waitroom-theme-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto l = Languages::load_embedded();
    ASSERT_TRUE(l.has_value());
    languages_ = std::make_unique<Languages>(std::move(*l));
    auto page = Template::parse(embedded_file("room.html")->data, "room.html", page_schema(),
                                languages_->english());
    ASSERT_TRUE(page.has_value()) << page.error().to_string();
    default_page_ = std::make_unique<Template>(std::move(*page));
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  fs::path dir_;
  std::unique_ptr<Languages> languages_;
  std::unique_ptr<Template> default_page_;
};

TEST_F(ThemeTest, AnEmptyDirectoryIsTheDefaultPage) {
  auto theme = load_theme(dir_, *default_page_, *languages_);
  ASSERT_TRUE(theme.has_value()) << theme.error().detail;
  EXPECT_EQ((*theme)->page, default_page_.get());
  EXPECT_FALSE((*theme)->css);
  EXPECT_FALSE((*theme)->logo);
}

TEST_F(ThemeTest, TemplateCssAndLogoWithHashedNames) {
  write("room.html", "<html lang=\"{{lang}}\"><h1>{{title}}</h1>{{t:join_button}}</html>");
  write("room.css", "body{color:red}");
  write("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  auto theme = load_theme(dir_, *default_page_, *languages_);
  ASSERT_TRUE(theme.has_value()) << theme.error().detail;
  const Theme& t = **theme;
  EXPECT_NE(t.page, default_page_.get());
  ASSERT_TRUE(t.css && t.logo);
  EXPECT_EQ(t.css->name, "theme." + short_hash("body{color:red}") + ".css");
  EXPECT_EQ(t.css->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(t.logo->content_type, "image/svg+xml");
  EXPECT_EQ(t.file(t.logo->name), &*t.logo);
  EXPECT_EQ(t.file("logo.svg"), nullptr);
  TemplateData d;
  d.set("lang", "de");
  d.set("title", "T<");
  EXPECT_EQ(t.page->render(d, languages_->get("de")),
            "<html lang=\"de\"><h1>T&lt;</h1>Anstellen</html>");
}

TEST_F(ThemeTest, ATemplateErrorNamesTheFileAndLine) {
  write("room.html", "<p>\n{{#view_waiting}}\n{{postion}}\n{{/view_waiting}}");
  auto theme = load_theme(dir_, *default_page_, *languages_);
  ASSERT_FALSE(theme.has_value());
  EXPECT_EQ(theme.error().detail, (dir_ / "room.html").string() + ":3: unknown variable 'postion'");
}

TEST_F(ThemeTest, OtherMistakesAreNamed) {
  EXPECT_EQ(load_theme(dir_ / "missing", *default_page_, *languages_).error().detail,
            (dir_ / "missing").string() + ": not a directory");
  write("logo.png", "GIF89a");
  EXPECT_EQ(load_theme(dir_, *default_page_, *languages_).error().detail,
            (dir_ / "logo.png").string() + ": not a PNG file");
  write("logo.svg", "<svg/>");
  EXPECT_NE(load_theme(dir_, *default_page_, *languages_).error().detail.find("keep one"),
            std::string::npos);
}

TEST_F(ThemeTest, MessagesWordTheNotificationsPerLanguage) {
  fs::create_directories(dir_ / "messages");
  write("messages/en.json", R"({"notify_turn_title": "Your slot at {room} is ready",)"
                            R"( "notify_near_body": "{ahead} before you, about {wait}."})");
  write("messages/de.json", R"({"notify_link_label": "Zurück zum Laden"})");
  write("messages/README.txt", "not a language: left alone");
  auto theme = load_theme(dir_, *default_page_, *languages_);
  ASSERT_TRUE(theme.has_value()) << theme.error().detail;
  const Theme& t = **theme;
  ASSERT_NE(t.message("en", "notify_turn_title"), nullptr);
  EXPECT_EQ(*t.message("en", "notify_turn_title"), "Your slot at {room} is ready");
  EXPECT_EQ(*t.message("en", "notify_near_body"), "{ahead} before you, about {wait}.");
  EXPECT_EQ(*t.message("de", "notify_link_label"), "Zurück zum Laden");
  // What a language's file lacks is not the theme's: the page's words are used for it.
  EXPECT_EQ(t.message("de", "notify_turn_title"), nullptr);
  EXPECT_EQ(t.message("fr", "notify_turn_title"), nullptr);
  EXPECT_EQ(t.page, default_page_.get());  // messages alone leave the page as it is
}

TEST_F(ThemeTest, AMessageWithAnUnknownKeyOrPlaceholderIsNamed) {
  fs::create_directories(dir_ / "messages");
  const std::string file = (dir_ / "messages" / "en.json").string();
  auto error_for = [&](const std::string& json) {
    write("messages/en.json", json);
    auto theme = load_theme(dir_, *default_page_, *languages_);
    return theme ? std::string("(loaded)") : theme.error().detail;
  };
  // A key that is not a notification message (a typo, or a page string).
  EXPECT_TRUE(error_for(R"({"notify_turn_titel": "Hi"})")
                  .starts_with(file + ": \"notify_turn_titel\": not a notification message"))
      << error_for(R"({"notify_turn_titel": "Hi"})");
  EXPECT_TRUE(error_for(R"({"join_button": "Queue"})")
                  .starts_with(file + ": \"join_button\": not a notification message"));
  // A placeholder the message does not have: {wait} is the near message's, not the turn's.
  EXPECT_EQ(error_for(R"({"notify_turn_body": "Within {wait}."})"),
            file + ": \"notify_turn_body\": unknown placeholder {wait} (this message's: {claim})");
  EXPECT_EQ(error_for(R"({"notify_link_label": "Back to {room}"})"),
            file + ": \"notify_link_label\": unknown placeholder {room} (this message's: none)");
  EXPECT_EQ(error_for(R"({"notify_turn_title": "Ready at {room"})"),
            file + ": \"notify_turn_title\": a '{' without its '}'");
  EXPECT_EQ(error_for(R"({"notify_turn_title": ""})"),
            file + ": \"notify_turn_title\": must not be empty");
  EXPECT_EQ(error_for(R"({"notify_turn_title": 3})"),
            file + ": \"notify_turn_title\": must be a string");
  EXPECT_EQ(error_for(R"(["notify_turn_title"])"),
            file + ": must be a JSON object of message texts");
  EXPECT_TRUE(error_for("{").starts_with(file + ": not valid JSON")) << error_for("{");
  EXPECT_EQ(error_for(R"json({"notify_near_body": "{wait} ({ahead})"})json"), "(loaded)");
  // A file not named for one of the page's languages.
  fs::remove(dir_ / "messages" / "en.json");
  write("messages/en-US.json", "{}");
  EXPECT_EQ(load_theme(dir_, *default_page_, *languages_).error().detail,
            (dir_ / "messages" / "en-US.json").string() +
                ": not named for one of the page's languages (en, de, fr, es, ja)");
}

TEST_F(ThemeTest, SiteUsesTheRoomsThemeAndFallsBackOnErrors) {
  fs::create_directories(dir_ / "good");
  fs::create_directories(dir_ / "bad");
  fs::create_directories(dir_ / "badwords" / "messages");
  std::ofstream(dir_ / "good" / "room.css") << "p{}";
  std::ofstream(dir_ / "bad" / "room.html") << "{{#oops}}";
  // A theme whose messages are wrong falls back whole, like one whose page is.
  std::ofstream(dir_ / "badwords" / "room.css") << "p{}";
  std::ofstream(dir_ / "badwords" / "messages" / "en.json") << R"({"notify_title": "Hi"})";
  config::ServerConfig cfg;
  cfg.room_theme_dirs = {
      {"shop", dir_ / "good"}, {"broken", dir_ / "bad"}, {"wordy", dir_ / "badwords"}};
  auto site = Site::create(cfg, "secret-secret-secret-secret-1234");
  ASSERT_TRUE(site.has_value()) << site.error().detail;
  EXPECT_TRUE((*site)->theme_for("shop").css);
  EXPECT_EQ((*site)->theme_for("broken").source, "built-in");
  EXPECT_EQ((*site)->theme_for("wordy").source, "built-in");
  EXPECT_TRUE((*site)->theme_for("wordy").messages.empty());
  EXPECT_EQ((*site)->theme_for("other").source, "built-in");
  EXPECT_EQ((*site)->theme_for("broken").page, (*site)->theme_for("other").page);
}

TEST(Site, BuiltInFilesAreServedUnderHashedNames) {
  config::ServerConfig cfg;
  auto site = Site::create(cfg, "secret-secret-secret-secret-1234");
  ASSERT_TRUE(site.has_value()) << site.error().detail;
  const Site& s = **site;
  ASSERT_TRUE(s.css_url().starts_with("/r/_assets/room."));
  const StaticFile* css = s.asset(s.css_url().substr(11));
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->data, embedded_file("room.css")->data);
  EXPECT_EQ(css->etag, "\"" + short_hash(css->data) + "\"");
  const StaticFile* js = s.asset(s.script_url().substr(11));
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(s.asset("room.css"), nullptr);
}

TEST(Site, EmbeddedFilesMatchTheirHashes) {
  ASSERT_GE(embedded_files().size(), 8u);
  for (const EmbeddedFile& f : embedded_files())
    EXPECT_EQ(short_hash(f.data), f.sha256.substr(0, 12)) << f.path;
  EXPECT_NE(embedded_file("i18n/ja.json"), nullptr);
  EXPECT_EQ(embedded_file("nope"), nullptr);
}

}  // namespace
}  // namespace waitroom::web
