#pragma once
// The page's languages: one flat JSON file of strings per language (src/web/assets/i18n/), the
// choice of language for a request, and numbers and durations written the way each language
// writes them (simple rules, matching the browser's Intl formatting the page's script uses).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "web/template.hpp"

namespace waitroom::web {

inline constexpr std::string_view kDefaultLanguage = "en";

// One language's strings; a key it lacks falls back to English.
class Catalog final : public Translations {
 public:
  Catalog(std::string lang, std::map<std::string, std::string, std::less<>> strings,
          const Catalog* fallback);

  const std::string& lang() const { return lang_; }
  bool has(std::string_view key) const override;
  std::string_view text(std::string_view key) const override;
  // `key_one` or `key_other` (or `key` alone) by the language's plural rule for n.
  std::string_view plural(std::string_view key, std::uint64_t n) const;
  // Whether this language's own file has the key (no fallback).
  bool has_own(std::string_view key) const { return strings_.contains(key); }
  const std::map<std::string, std::string, std::less<>>& strings() const { return strings_; }

  // 1234567 as "1,234,567" (en, ja), "1.234.567" (de), "1 234 567" (fr, narrow no-break
  // spaces), "1.234.567" (es; but "1234", as Spanish leaves four-digit numbers ungrouped).
  std::string number(std::uint64_t n) const;
  // A wait: "under 1 min", "7 min", "2 h 5 min" in the language's words.
  std::string duration(std::int64_t seconds) const;
  // A countdown: "4 min 05 s", "1 h 02 min 05 s" (never announced, so compact).
  std::string countdown(std::int64_t seconds) const;

 private:
  std::string lang_;
  std::map<std::string, std::string, std::less<>> strings_;
  const Catalog* fallback_;
};

// Every language of the page.
class Languages {
 public:
  // From the embedded translation files; an error names the file and what is wrong with it.
  static core::Result<Languages> load_embedded();
  // From (language code, JSON text) pairs; "en" must be among them.
  static core::Result<Languages> load(
      const std::vector<std::pair<std::string, std::string_view>>& files);

  // The catalog for `lang` ("de"), or English.
  const Catalog& get(std::string_view lang) const;
  const Catalog& english() const { return get(kDefaultLanguage); }
  bool supports(std::string_view lang) const;
  // The supported code `lang` names in any case ("DE" -> "de"), or empty: a ?lang= value made
  // safe to keep in links and forms.
  std::string_view code_of(std::string_view lang) const;
  // Codes in a stable order (en first).
  const std::vector<std::string>& codes() const { return codes_; }

  // The language for a request: `?lang=` when it names a supported language, else the best
  // match of Accept-Language (q-values honoured; "de-CH" matches "de"), else English.
  std::string_view choose(std::optional<std::string_view> lang_param,
                          std::string_view accept_language) const;

 private:
  std::vector<std::string> codes_;
  std::map<std::string, std::unique_ptr<Catalog>, std::less<>> catalogs_;
};

}  // namespace waitroom::web
