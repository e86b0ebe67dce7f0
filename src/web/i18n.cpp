#include "web/i18n.hpp"

#include <boost/json.hpp>

#include "web/embedded_files.hpp"

namespace waitroom::web {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {

// The languages whose files are compiled in, English first (the fallback).
constexpr std::string_view kEmbeddedLanguages[] = {"en", "de", "fr", "es", "ja"};
constexpr std::size_t kMaxAcceptLanguageBytes = 1024;

// Plain (unescaped) text with `{name}` placeholders filled; the page escapes it when it is shown.
std::string fill(std::string_view text,
                 std::initializer_list<std::pair<std::string_view, std::string>> values) {
  std::string out(text);
  for (const auto& [name, value] : values) {
    const std::string placeholder = "{" + std::string(name) + "}";
    for (auto at = out.find(placeholder); at != std::string::npos;
         at = out.find(placeholder, at + value.size()))
      out.replace(at, placeholder.size(), value);
  }
  return out;
}

std::string two_digits(std::int64_t n) {
  return n < 10 ? "0" + std::to_string(n) : std::to_string(n);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "0.8" -> 800; anything malformed -> nullopt (the entry is skipped).
std::optional<int> parse_q(std::string_view q) {
  if (q.empty() || q.size() > 5) return std::nullopt;
  if (q[0] == '1')
    return q.find_first_not_of("1.0") == std::string_view::npos ? std::optional<int>(1000)
                                                                : std::nullopt;
  if (q[0] != '0') return std::nullopt;
  if (q.size() == 1) return 0;
  if (q[1] != '.') return std::nullopt;
  int value = 0;
  int scale = 100;
  for (char c : q.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    value += (c - '0') * scale;
    scale /= 10;
  }
  return value;
}

}  // namespace

Catalog::Catalog(std::string lang, std::map<std::string, std::string, std::less<>> strings,
                 const Catalog* fallback)
    : lang_(std::move(lang)), strings_(std::move(strings)), fallback_(fallback) {}

bool Catalog::has(std::string_view key) const {
  return strings_.contains(key) || (fallback_ && fallback_->has(key));
}

std::string_view Catalog::text(std::string_view key) const {
  if (auto it = strings_.find(key); it != strings_.end()) return it->second;
  return fallback_ ? fallback_->text(key) : std::string_view{};
}

// CLDR's cardinal rules, reduced to what whole numbers need: French counts 0 and 1 as "one",
// English, German and Spanish only 1, Japanese has no plural.
std::string_view Catalog::plural(std::string_view key, std::uint64_t n) const {
  std::string_view category = "other";
  if (lang_ == "fr")
    category = n <= 1 ? "one" : "other";
  else if (lang_ != "ja")
    category = n == 1 ? "one" : "other";
  const std::string specific = std::string(key) + "_" + std::string(category);
  if (has(specific)) return text(specific);
  const std::string other = std::string(key) + "_other";
  if (has(other)) return text(other);
  return text(key);
}

std::string Catalog::number(std::uint64_t n) const {
  const std::string digits = std::to_string(n);
  std::string sep = ",";
  if (lang_ == "de" || lang_ == "es") sep = ".";
  if (lang_ == "fr") sep = "\u202f";                       // what Intl.NumberFormat("fr") writes
  if (lang_ == "es" && digits.size() <= 4) return digits;  // Spanish: 1234, but 12.345
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return out;
}

std::string Catalog::duration(std::int64_t seconds) const {
  if (seconds < 60) return std::string(text("duration_under_minute"));
  const std::int64_t minutes = (seconds + 59) / 60;  // never promise sooner than the estimate
  if (minutes < 60)
    return fill(text("duration_minutes"), {{"m", number(static_cast<std::uint64_t>(minutes))}});
  const std::int64_t h = minutes / 60;
  const std::int64_t m = minutes % 60;
  if (m == 0) return fill(text("duration_hours"), {{"h", number(static_cast<std::uint64_t>(h))}});
  return fill(text("duration_hours_minutes"),
              {{"h", number(static_cast<std::uint64_t>(h))}, {"m", std::to_string(m)}});
}

std::string Catalog::countdown(std::int64_t seconds) const {
  if (seconds < 0) seconds = 0;
  const std::int64_t h = seconds / 3600;
  const std::int64_t m = seconds % 3600 / 60;
  const std::int64_t s = seconds % 60;
  if (h > 0)
    return fill(
        text("countdown_hms"),
        {{"h", number(static_cast<std::uint64_t>(h))}, {"m", two_digits(m)}, {"s", two_digits(s)}});
  if (m > 0) return fill(text("countdown_ms"), {{"m", std::to_string(m)}, {"s", two_digits(s)}});
  return fill(text("countdown_s"), {{"s", std::to_string(s)}});
}

core::Result<Languages> Languages::load(
    const std::vector<std::pair<std::string, std::string_view>>& files) {
  Languages out;
  // English first: the others fall back to it.
  std::vector<std::pair<std::string, std::string_view>> ordered;
  for (const auto& f : files)
    if (f.first == kDefaultLanguage)
      ordered.insert(ordered.begin(), f);
    else
      ordered.push_back(f);
  if (ordered.empty() || ordered.front().first != kDefaultLanguage)
    return fail(ErrorCode::internal, "i18n: no English translation (i18n/en.json)");
  const Catalog* english = nullptr;
  for (const auto& [code, text] : ordered) {
    const std::string file = "i18n/" + code + ".json";
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) return fail(ErrorCode::internal, file + ": not valid JSON: " + ec.message());
    if (!v.is_object())
      return fail(ErrorCode::internal, file + ": must be a JSON object of strings");
    std::map<std::string, std::string, std::less<>> strings;
    for (const auto& [k, value] : v.as_object()) {
      if (!value.is_string())
        return fail(ErrorCode::internal, file + ": \"" + std::string(k) + "\" must be a string");
      strings.emplace(std::string(k), std::string(value.as_string()));
    }
    auto catalog = std::make_unique<Catalog>(code, std::move(strings), english);
    if (!english) english = catalog.get();
    out.codes_.push_back(code);
    out.catalogs_.emplace(code, std::move(catalog));
  }
  return out;
}

core::Result<Languages> Languages::load_embedded() {
  std::vector<std::pair<std::string, std::string_view>> files;
  for (std::string_view code : kEmbeddedLanguages) {
    const std::string path = "i18n/" + std::string(code) + ".json";
    const EmbeddedFile* f = embedded_file(path);
    if (!f) return fail(ErrorCode::internal, "i18n: " + path + " is not compiled in");
    files.emplace_back(std::string(code), f->data);
  }
  return load(files);
}

const Catalog& Languages::get(std::string_view lang) const {
  if (auto it = catalogs_.find(lang); it != catalogs_.end()) return *it->second;
  return *catalogs_.find(kDefaultLanguage)->second;
}

bool Languages::supports(std::string_view lang) const { return catalogs_.contains(lang); }

std::string_view Languages::code_of(std::string_view lang) const {
  auto it = catalogs_.find(lower(lang));
  return it == catalogs_.end() ? std::string_view{} : std::string_view(it->first);
}

std::string_view Languages::choose(std::optional<std::string_view> lang_param,
                                   std::string_view accept_language) const {
  if (lang_param) {
    const std::string wanted = lower(*lang_param);
    if (auto it = catalogs_.find(wanted); it != catalogs_.end()) return it->first;
  }
  if (accept_language.size() > kMaxAcceptLanguageBytes)
    accept_language = accept_language.substr(0, kMaxAcceptLanguageBytes);
  std::string_view best;
  int best_q = 0;
  while (!accept_language.empty()) {
    const auto comma = accept_language.find(',');
    std::string_view item = accept_language.substr(0, comma);
    accept_language =
        comma == std::string_view::npos ? std::string_view{} : accept_language.substr(comma + 1);
    int q = 1000;
    if (const auto semi = item.find(';'); semi != std::string_view::npos) {
      std::string_view param = trim(item.substr(semi + 1));
      item = item.substr(0, semi);
      if (!param.starts_with("q=") && !param.starts_with("Q=")) continue;
      auto parsed = parse_q(trim(param.substr(2)));
      if (!parsed) continue;
      q = *parsed;
    }
    const std::string tag = lower(trim(item));
    const std::string primary = tag.substr(0, tag.find('-'));
    auto it = catalogs_.find(primary);
    if (it == catalogs_.end() || q <= best_q) continue;  // the first of equal weights wins
    best = it->first;
    best_q = q;
  }
  return best.empty() ? kDefaultLanguage : best;
}

}  // namespace waitroom::web
