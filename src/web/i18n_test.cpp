#include "web/i18n.hpp"

#include <gtest/gtest.h>

#include <set>

#include "testing/embedded_languages.hpp"
#include "web/embedded_files.hpp"

namespace waitroom::web {
namespace {

const Languages& languages() { return testing::embedded_languages(); }

TEST(I18n, FiveLanguagesEachWithEveryEnglishKey) {
  const auto& l = languages();
  EXPECT_EQ(l.codes(), (std::vector<std::string>{"en", "de", "fr", "es", "ja"}));
  const Catalog& en = l.english();
  for (const std::string& code : l.codes()) {
    const Catalog& c = l.get(code);
    for (const auto& [key, text] : en.strings()) {
      EXPECT_TRUE(c.has_own(key)) << "i18n/" << code << ".json lacks \"" << key << "\"";
    }
    for (const auto& [key, text] : c.strings()) {
      EXPECT_TRUE(en.has_own(key))
          << "i18n/" << code << ".json has \"" << key << "\" that English lacks";
    }
  }
}

TEST(I18n, TranslationsUseTheSamePlaceholdersAsEnglish) {
  const auto& l = languages();
  auto placeholders = [](const std::string& text) {
    std::set<std::string> out;
    for (auto open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
      const auto close = text.find('}', open);
      if (close != std::string::npos) out.insert(text.substr(open, close - open + 1));
    }
    return out;
  };
  for (const std::string& code : l.codes())
    for (const auto& [key, text] : l.get(code).strings())
      EXPECT_EQ(placeholders(text), placeholders(std::string(l.english().text(key))))
          << code << " " << key;
}

TEST(I18n, ChoosesFromTheParameterThenAcceptLanguage) {
  const auto& l = languages();
  EXPECT_EQ(l.choose(std::nullopt, ""), "en");
  EXPECT_EQ(l.choose("ja", "de"), "ja");
  EXPECT_EQ(l.choose("JA", ""), "ja");
  EXPECT_EQ(l.choose("xx", "fr-CA,fr;q=0.9"), "fr");
  EXPECT_EQ(l.choose(std::nullopt, "de-CH, en;q=0.5"), "de");
  EXPECT_EQ(l.choose(std::nullopt, "en;q=0.4, es;q=0.8, ja;q=0.6"), "es");
  EXPECT_EQ(l.choose(std::nullopt, "it, pt-BR;q=0.9, ja;q=0.1"), "ja");
  EXPECT_EQ(l.choose(std::nullopt, "de;q=0, fr;q=0.3"), "fr");
  EXPECT_EQ(l.choose(std::nullopt, "de;q=0"), "en");
  EXPECT_EQ(l.choose(std::nullopt, "*"), "en");
  EXPECT_EQ(l.choose(std::nullopt, "de;q=banana, es"), "es");
  EXPECT_EQ(l.choose(std::nullopt, "fr;q=0.5, de;q=0.5"), "fr");  // equal weights: the first
}

TEST(I18n, CodeOfNamesOnlySupportedLanguages) {
  const auto& l = languages();
  EXPECT_EQ(l.code_of("de"), "de");
  EXPECT_EQ(l.code_of("JA"), "ja");
  EXPECT_EQ(l.code_of("xx"), "");
  EXPECT_EQ(l.code_of(""), "");
  EXPECT_EQ(l.code_of("de\"><script>"), "");
}

TEST(I18n, NumbersAsEachLanguageWritesThem) {
  const auto& l = languages();
  EXPECT_EQ(l.get("en").number(1234567), "1,234,567");
  EXPECT_EQ(l.get("en").number(999), "999");
  EXPECT_EQ(l.get("de").number(1234567), "1.234.567");
  EXPECT_EQ(l.get("fr").number(12345), "12\u202f345");
  EXPECT_EQ(l.get("es").number(1234), "1234");
  EXPECT_EQ(l.get("es").number(12345), "12.345");
  EXPECT_EQ(l.get("ja").number(1000), "1,000");
  EXPECT_EQ(l.get("en").number(0), "0");
}

TEST(I18n, PluralRules) {
  const auto& l = languages();
  EXPECT_EQ(l.get("en").plural("ahead", 1), "person ahead of you");
  EXPECT_EQ(l.get("en").plural("ahead", 0), "people ahead of you");
  EXPECT_EQ(l.get("fr").plural("ahead", 0), "personne devant vous");  // French: 0 is singular
  EXPECT_EQ(l.get("fr").plural("ahead", 2), "personnes devant vous");
  EXPECT_EQ(l.get("de").plural("ahead", 1), "Person vor Ihnen");
  EXPECT_EQ(l.get("ja").plural("ahead", 1), l.get("ja").text("ahead_other"));
}

TEST(I18n, DurationsAndCountdowns) {
  const auto& l = languages();
  const Catalog& en = l.get("en");
  EXPECT_EQ(en.duration(0), "under 1 min");
  EXPECT_EQ(en.duration(59), "under 1 min");
  EXPECT_EQ(en.duration(60), "1 min");
  EXPECT_EQ(en.duration(61), "2 min");  // never sooner than the estimate
  EXPECT_EQ(en.duration(3600), "1 h");
  EXPECT_EQ(en.duration(3660), "1 h 1 min");
  EXPECT_EQ(l.get("de").duration(600), "10 Min.");
  EXPECT_EQ(l.get("ja").duration(7500), "2時間5分");
  EXPECT_EQ(en.countdown(5), "5 s");
  EXPECT_EQ(en.countdown(65), "1 min 05 s");
  EXPECT_EQ(en.countdown(3725), "1 h 02 min 05 s");
  EXPECT_EQ(en.countdown(-3), "0 s");
  EXPECT_EQ(l.get("ja").countdown(65), "1分05秒");
}

TEST(I18n, MissingKeysFallBackToEnglish) {
  std::vector<std::pair<std::string, std::string_view>> files{{"de", R"({"a":"A-de"})"},
                                                              {"en", R"({"a":"A","b":"B"})"}};
  auto l = Languages::load(files);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->get("de").text("b"), "B");
  EXPECT_EQ(l->get("de").text("a"), "A-de");
  EXPECT_EQ(l->get("xx").lang(), "en");
}

TEST(I18n, BrokenFilesNameTheFile) {
  std::vector<std::pair<std::string, std::string_view>> files{{"en", R"({"a":"A"})"},
                                                              {"de", R"({"a":1})"}};
  auto l = Languages::load(files);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().detail, "i18n/de.json: \"a\" must be a string");
  std::vector<std::pair<std::string, std::string_view>> no_english{{"de", "{}"}};
  EXPECT_FALSE(Languages::load(no_english).has_value());
}

}  // namespace
}  // namespace waitroom::web
