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
  auto theme = load_theme(dir_, *default_page_, languages_->english());
  ASSERT_TRUE(theme.has_value()) << theme.error().detail;
  EXPECT_EQ((*theme)->page, default_page_.get());
  EXPECT_FALSE((*theme)->css);
  EXPECT_FALSE((*theme)->logo);
}

TEST_F(ThemeTest, TemplateCssAndLogoWithHashedNames) {
  write("room.html", "<html lang=\"{{lang}}\"><h1>{{title}}</h1>{{t:join_button}}</html>");
  write("room.css", "body{color:red}");
  write("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
  auto theme = load_theme(dir_, *default_page_, languages_->english());
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
  auto theme = load_theme(dir_, *default_page_, languages_->english());
  ASSERT_FALSE(theme.has_value());
  EXPECT_EQ(theme.error().detail, (dir_ / "room.html").string() + ":3: unknown variable 'postion'");
}

TEST_F(ThemeTest, OtherMistakesAreNamed) {
  EXPECT_EQ(load_theme(dir_ / "missing", *default_page_, languages_->english()).error().detail,
            (dir_ / "missing").string() + ": not a directory");
  write("logo.png", "GIF89a");
  EXPECT_EQ(load_theme(dir_, *default_page_, languages_->english()).error().detail,
            (dir_ / "logo.png").string() + ": not a PNG file");
  write("logo.svg", "<svg/>");
  EXPECT_NE(load_theme(dir_, *default_page_, languages_->english()).error().detail.find("keep one"),
            std::string::npos);
}

TEST_F(ThemeTest, SiteUsesTheRoomsThemeAndFallsBackOnErrors) {
  fs::create_directories(dir_ / "good");
  fs::create_directories(dir_ / "bad");
  std::ofstream(dir_ / "good" / "room.css") << "p{}";
  std::ofstream(dir_ / "bad" / "room.html") << "{{#oops}}";
  config::ServerConfig cfg;
  cfg.room_theme_dirs = {{"shop", dir_ / "good"}, {"broken", dir_ / "bad"}};
  auto site = Site::create(cfg, "secret-secret-secret-secret-1234");
  ASSERT_TRUE(site.has_value()) << site.error().detail;
  EXPECT_TRUE((*site)->theme_for("shop").css);
  EXPECT_EQ((*site)->theme_for("broken").source, "built-in");
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
