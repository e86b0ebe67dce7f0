#include "web/notice_wording.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "config/server_config.hpp"

// A namespace of its own: the unit tests are built as unity files, where another test's
// anonymous helpers (site(), kNow) would collide with these.
namespace waitroom::web::notice_wording_test {
namespace {

constexpr std::int64_t kNowMs = 1'800'000'000'000;
constexpr std::int64_t kNowS = kNowMs / 1000;
constexpr std::string_view kTicket = "00000004-0000-0100-0123-456789abcdef";

const Site& site() {
  static const std::unique_ptr<Site> s = [] {
    config::ServerConfig cfg;
    auto created = Site::create(cfg, "0123456789abcdef0123456789abcdef");
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().detail);
    return std::move(*created);
  }();
  return *s;
}

engine::PendingNotice near(std::string lang, std::optional<std::uint64_t> ahead,
                           std::optional<std::int64_t> p90_s) {
  engine::PendingNotice n;
  n.room = "sale";
  n.ticket = std::string(kTicket);
  n.kind = core::NoticeKind::turn_near;
  n.lang = std::move(lang);
  n.ahead = ahead;
  if (p90_s) n.eta = core::Eta{*p90_s / 2, *p90_s, false};
  return n;
}

engine::PendingNotice turn(std::string lang, std::int64_t claim_until_s) {
  engine::PendingNotice n = near(std::move(lang), std::nullopt, std::nullopt);
  n.kind = core::NoticeKind::turn;
  n.claim_until_s = claim_until_s;
  return n;
}

TEST(NoticeWording, AlmostYourTurnSaysHowLongAndHowManyAhead) {
  core::ManualClock clock(kNowMs);
  const auto words = make_notice_wording(site(), "https://queue.example", clock);
  const NoticeWords w = words(near("en", 12, 240));
  EXPECT_EQ(w.title, "Almost your turn – sale");
  EXPECT_EQ(w.body, "About 4 min to go (12 ahead of you). Come back now to keep your place.");
  EXPECT_EQ(w.room_title, "sale");
  EXPECT_EQ(w.link_label, "Back to my place");
  EXPECT_EQ(w.footer,
            "You asked to be told when it is your turn in sale. Your address is erased once your "
            "wait ends.");
  // Without one of the figures, the sentence says what is known.
  EXPECT_EQ(words(near("en", std::nullopt, 240)).body,
            "About 4 min to go. Come back now to keep your place.");
  EXPECT_EQ(words(near("en", 3, std::nullopt)).body,
            "3 ahead of you. Come back now to keep your place.");
  EXPECT_EQ(words(near("en", 3, 20)).body, "3 ahead of you. Come back now to keep your place.");
  EXPECT_EQ(words(near("en", 0, 240)).body, "You are next. Come back now to keep your place.");
  EXPECT_EQ(words(near("en", std::nullopt, std::nullopt)).body,
            "Your turn is near. Come back now to keep your place.");
  // Numbers as the language writes them.
  EXPECT_EQ(words(near("en", 1234, 600)).body,
            "About 10 min to go (1,234 ahead of you). Come back now to keep your place.");
}

TEST(NoticeWording, ItsYourTurnSaysHowLongTheTurnIsKept) {
  core::ManualClock clock(kNowMs);
  const auto words = make_notice_wording(site(), "https://queue.example", clock);
  const NoticeWords w = words(turn("en", kNowS + 900));
  EXPECT_EQ(w.title, "It's your turn – sale");
  EXPECT_EQ(w.body, "Your turn has come. Open the link within 15 min to go in.");
  EXPECT_EQ(words(turn("en", 0)).body, "Your turn has come. Open the link to go in.");
  clock.advance_ms(600'000);
  EXPECT_EQ(words(turn("en", kNowS + 900)).body,
            "Your turn has come. Open the link within 5 min to go in.");
}

TEST(NoticeWording, TheLinkIsTheResumeLinkInTheVisitorsLanguage) {
  core::ManualClock clock(kNowMs);
  const std::string token = *site().resume_tokens().token_for(kTicket);
  const auto words = make_notice_wording(site(), "https://queue.example/", clock);
  EXPECT_EQ(words(turn("en", 0)).link, "https://queue.example/r/sale/resume/" + token);
  EXPECT_EQ(words(turn("de", 0)).link, "https://queue.example/r/sale/resume/" + token + "?lang=de");
  // An app's regional code reads as its language; one the page lacks, as English.
  EXPECT_EQ(words(turn("de-CH", 0)).link,
            "https://queue.example/r/sale/resume/" + token + "?lang=de");
  EXPECT_EQ(words(turn("pt-BR", 0)).link, "https://queue.example/r/sale/resume/" + token);
  // The token carries the place, never the ticket id.
  EXPECT_EQ(words(turn("en", 0)).link.find(kTicket), std::string::npos);
  // Without a public base: a link relative to the server.
  EXPECT_EQ(make_notice_wording(site(), "", clock)(turn("en", 0)).link, "/r/sale/resume/" + token);
}

TEST(NoticeWording, EveryLanguageHasItsOwnWords) {
  core::ManualClock clock(kNowMs);
  const auto words = make_notice_wording(site(), "https://queue.example", clock);
  const NoticeWords de = words(near("de", 12, 240));
  EXPECT_EQ(de.title, "Gleich sind Sie an der Reihe – sale");
  EXPECT_EQ(de.body,
            "In etwa 4 Min. sind Sie an der Reihe (12 vor Ihnen). Kommen Sie jetzt zurück, um "
            "Ihren Platz zu behalten.");
  EXPECT_EQ(words(turn("ja", kNowS + 900)).body,
            "あなたの番が来ました。15分 以内にリンクを開いて入場してください。");
  for (std::string_view lang : {"de", "es", "fr", "ja"}) {
    for (const engine::PendingNotice& n :
         {near(std::string(lang), 12, 240), near(std::string(lang), std::nullopt, std::nullopt),
          turn(std::string(lang), kNowS + 900), turn(std::string(lang), 0)}) {
      const NoticeWords w = words(n);
      const NoticeWords en = words([&] {
        engine::PendingNotice e = n;
        e.lang = "en";
        return e;
      }());
      EXPECT_NE(w.title, en.title) << lang;
      EXPECT_NE(w.body, en.body) << lang;
      EXPECT_NE(w.footer, en.footer) << lang;
      // Every placeholder was filled, and no sentence ends in "..".
      for (const std::string& text : {w.title, w.body, w.footer}) {
        EXPECT_EQ(text.find('{'), std::string::npos) << lang << ": " << text;
        EXPECT_EQ(text.find(".."), std::string::npos) << lang << ": " << text;
      }
    }
  }
}

TEST(NoticeWording, TheRoomsThemeWordsThemInItsOwnVoice) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("waitroom-notice-theme-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "messages");
  std::ofstream(dir / "messages" / "en.json")
      << R"({"notify_turn_title": "Your slot at {room} is ready",)"
         R"( "notify_turn_body": "Come in within {claim}.",)"
         R"( "notify_near_body": "{ahead} before you, about {wait}."})";
  std::ofstream(dir / "messages" / "de.json") << R"({"notify_link_label": "Zurück zum Laden"})";
  config::ServerConfig cfg;
  cfg.room_theme_dirs = {{"sale", dir.string()}};
  auto themed = Site::create(cfg, "0123456789abcdef0123456789abcdef");
  fs::remove_all(dir);
  ASSERT_TRUE(themed.has_value()) << themed.error().detail;
  core::ManualClock clock(kNowMs);
  const auto words = make_notice_wording(**themed, "https://queue.example", clock);
  const NoticeWords w = words(turn("en", kNowS + 900));
  EXPECT_EQ(w.title, "Your slot at sale is ready");
  EXPECT_EQ(w.body, "Come in within 15 min.");
  // What the theme does not word is the page's.
  EXPECT_EQ(w.link_label, "Back to my place");
  EXPECT_EQ(words(turn("en", 0)).body, "Your turn has come. Open the link to go in.");
  EXPECT_EQ(words(near("en", 1234, 240)).body, "1,234 before you, about 4 min.");
  EXPECT_EQ(words(near("en", 3, std::nullopt)).title, "Almost your turn – sale");
  // A language the theme words only in part: its own key, else the page's German, not the
  // theme's English.
  const NoticeWords de = words(turn("de", kNowS + 900));
  EXPECT_EQ(de.link_label, "Zurück zum Laden");
  EXPECT_EQ(de.title, words(turn("de", 0)).title);
  EXPECT_EQ(de.title, make_notice_wording(site(), "", clock)(turn("de", 0)).title);
  EXPECT_NE(de.title.find("sale"), std::string::npos);
  EXPECT_EQ(de.title.find("slot"), std::string::npos);
  // A language without a file of the theme's: the page's.
  EXPECT_EQ(words(turn("fr", 0)).title,
            make_notice_wording(site(), "", clock)(turn("fr", 0)).title);
  // Another room has no theme: the page's words.
  engine::PendingNotice other = turn("en", kNowS + 900);
  other.room = "other";
  EXPECT_EQ(words(other).title, "It's your turn – other");
}

TEST(NoticeWording, EveryMessageOfEveryLanguageUsesOnlyItsPlaceholders) {
  // The placeholders a theme may use are those the page's own texts do (and this file fills).
  for (const std::string& code : site().languages().codes()) {
    const Catalog& t = site().languages().get(code);
    boost::json::object texts;
    for (const NoticeMessage& m : notice_messages()) {
      EXPECT_TRUE(site().languages().english().has_own(m.key)) << m.key;
      texts[m.key] = t.text(m.key);
    }
    auto parsed = parse_notice_messages(boost::json::serialize(texts), "i18n/" + code + ".json");
    ASSERT_TRUE(parsed.has_value()) << parsed.error().detail;
    EXPECT_EQ(parsed->size(), notice_messages().size());
  }
  // Every title and body of the page's notify_* texts is one of them: a message added to the
  // page's catalog is added to the list a theme is checked against too.
  for (const auto& [key, text] : site().languages().english().strings()) {
    if (!key.starts_with("notify_") || (!key.contains("_title") && !key.contains("_body")))
      continue;
    EXPECT_TRUE(std::ranges::any_of(notice_messages(), [&](const NoticeMessage& m) {
      return m.key == key;
    })) << key;
  }
}

}  // namespace
}  // namespace waitroom::web::notice_wording_test
