#include "web/notice_wording.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

namespace waitroom::web {

using core::ErrorCode;
using core::fail;

namespace {

// The placeholders each message's text may hold: those the functions below fill for it.
constexpr std::string_view kRoom[] = {"room"};
constexpr std::string_view kWaitAhead[] = {"wait", "ahead"};
constexpr std::string_view kWait[] = {"wait"};
constexpr std::string_view kAhead[] = {"ahead"};
constexpr std::string_view kClaim[] = {"claim"};
constexpr NoticeMessage kNoticeMessages[] = {
    {"notify_near_title", kRoom},
    {"notify_near_body", kWaitAhead},
    {"notify_near_body_no_ahead", kWait},
    {"notify_near_body_no_eta", kAhead},
    {"notify_near_body_next", {}},
    {"notify_near_body_plain", {}},
    {"notify_turn_title", kRoom},
    {"notify_turn_body", kClaim},
    {"notify_turn_body_no_limit", {}},
    {"notify_email_footer", kRoom},
    {"notify_link_label", {}},
};

const NoticeMessage* find_message(std::string_view key) {
  for (const NoticeMessage& m : kNoticeMessages)
    if (m.key == key) return &m;
  return nullptr;
}

// "{room}, {wait}", or "none" for a message without placeholders.
std::string placeholder_list(const NoticeMessage& m) {
  if (m.placeholders.empty()) return "none";
  std::string out;
  for (std::string_view name : m.placeholders)
    out += (out.empty() ? "{" : ", {") + std::string(name) + "}";
  return out;
}

// Why `text` is not fit to be the message `m`, or empty when it is.
std::string check_text(const NoticeMessage& m, std::string_view text) {
  if (text.empty()) return "must not be empty";
  for (auto open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) return "a '{' without its '}'";
    const std::string_view name = text.substr(open + 1, close - open - 1);
    if (std::ranges::find(m.placeholders, name) == m.placeholders.end())
      return "unknown placeholder {" + std::string(name) +
             "} (this message's: " + placeholder_list(m) + ")";
    open = close;
  }
  return {};
}

// One message's text: the room theme's, in the visitor's language, when it has one; else the
// page's in that language (whose own fallback is English).
class Texts {
 public:
  Texts(const Catalog& page, const Theme& theme) : page_(page), theme_(theme) {}
  std::string_view text(std::string_view key) const {
    if (const std::string* own = theme_.message(page_.lang(), key)) return *own;
    return page_.text(key);
  }
  const Catalog& page() const { return page_; }

 private:
  const Catalog& page_;
  const Theme& theme_;
};

// Shorter than this, "about {wait} to go" says nothing useful ("about under 1 min"): the near
// message then speaks of the people ahead, or of the turn being near.
constexpr std::int64_t kMinWaitWorthSayingS = 60;

std::string fill(std::string_view text, std::string_view name, std::string_view value) {
  std::string out(text);
  const std::string placeholder = "{" + std::string(name) + "}";
  for (auto at = out.find(placeholder); at != std::string::npos;
       at = out.find(placeholder, at + value.size()))
    out.replace(at, placeholder.size(), value);
  return out;
}

std::string near_body(const Texts& t, const engine::PendingNotice& n) {
  const bool has_wait = n.eta && n.eta->p90_s >= kMinWaitWorthSayingS;
  if (n.ahead && *n.ahead == 0) return std::string(t.text("notify_near_body_next"));
  if (has_wait) {
    const std::string wait = t.page().duration(n.eta->p90_s);
    if (n.ahead)
      return fill(fill(t.text("notify_near_body"), "wait", wait), "ahead",
                  t.page().number(*n.ahead));
    return fill(t.text("notify_near_body_no_ahead"), "wait", wait);
  }
  if (n.ahead) return fill(t.text("notify_near_body_no_eta"), "ahead", t.page().number(*n.ahead));
  return std::string(t.text("notify_near_body_plain"));
}

std::string turn_body(const Texts& t, const engine::PendingNotice& n, std::int64_t now_s) {
  if (n.claim_until_s <= 0) return std::string(t.text("notify_turn_body_no_limit"));
  return fill(t.text("notify_turn_body"), "claim",
              t.page().duration(std::max<std::int64_t>(n.claim_until_s - now_s, 0)));
}

}  // namespace

std::span<const NoticeMessage> notice_messages() { return kNoticeMessages; }

core::Result<std::map<std::string, std::string, std::less<>>> parse_notice_messages(
    std::string_view json_text, const std::string& file) {
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(json_text, ec);
  if (ec) return fail(ErrorCode::bad_request, file + ": not valid JSON: " + ec.message());
  if (!v.is_object())
    return fail(ErrorCode::bad_request, file + ": must be a JSON object of message texts");
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [k, value] : v.as_object()) {
    const std::string key(k);
    const NoticeMessage* m = find_message(key);
    if (!m) {
      std::string keys;
      for (const NoticeMessage& known : kNoticeMessages)
        keys += (keys.empty() ? "" : ", ") + std::string(known.key);
      return fail(ErrorCode::bad_request,
                  file + ": \"" + key + "\": not a notification message (they are " + keys + ")");
    }
    if (!value.is_string())
      return fail(ErrorCode::bad_request, file + ": \"" + key + "\": must be a string");
    std::string text(value.as_string());
    if (const std::string why = check_text(*m, text); !why.empty())
      return fail(ErrorCode::bad_request, file + ": \"" + key + "\": " + why);
    out.insert_or_assign(key, std::move(text));
  }
  return out;
}

NoticeWordingFn make_notice_wording(const Site& site, std::string public_base,
                                    const core::Clock& clock) {
  while (!public_base.empty() && public_base.back() == '/') public_base.pop_back();
  return [&site, &clock, base = std::move(public_base)](const engine::PendingNotice& n) {
    // The language the visitor read the page in ("de", or "de-CH" from an app), else English.
    // The room's theme may word them in its own voice.
    const Texts t(site.languages().get(site.languages().choose(std::nullopt, n.lang)),
                  site.theme_for(n.room));
    NoticeWords w;
    w.room_title = n.room;
    const bool turn = n.kind == core::NoticeKind::turn;
    w.title = fill(t.text(turn ? "notify_turn_title" : "notify_near_title"), "room", n.room);
    w.body = turn ? turn_body(t, n, clock.now_s()) : near_body(t, n);
    // Back to the place: its resume link, in the visitor's language. (A ticket id that is not
    // one cannot have a token; the room's page is the best left to offer.)
    w.link = base + "/r/" + n.room;
    if (auto token = site.resume_tokens().token_for(n.ticket)) w.link += "/resume/" + *token;
    if (t.page().lang() != kDefaultLanguage) w.link += "?lang=" + t.page().lang();
    w.link_label = t.text("notify_link_label");
    w.footer = fill(t.text("notify_email_footer"), "room", n.room);
    return w;
  };
}

}  // namespace waitroom::web
