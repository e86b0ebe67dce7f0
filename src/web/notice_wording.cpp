#include "web/notice_wording.hpp"

#include <algorithm>
#include <utility>

namespace waitroom::web {

namespace {

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

std::string near_body(const Catalog& t, const engine::PendingNotice& n) {
  const bool has_wait = n.eta && n.eta->p90_s >= kMinWaitWorthSayingS;
  if (n.ahead && *n.ahead == 0) return std::string(t.text("notify_near_body_next"));
  if (has_wait) {
    const std::string wait = t.duration(n.eta->p90_s);
    if (n.ahead)
      return fill(fill(t.text("notify_near_body"), "wait", wait), "ahead", t.number(*n.ahead));
    return fill(t.text("notify_near_body_no_ahead"), "wait", wait);
  }
  if (n.ahead) return fill(t.text("notify_near_body_no_eta"), "ahead", t.number(*n.ahead));
  return std::string(t.text("notify_near_body_plain"));
}

std::string turn_body(const Catalog& t, const engine::PendingNotice& n, std::int64_t now_s) {
  if (n.claim_until_s <= 0) return std::string(t.text("notify_turn_body_no_limit"));
  return fill(t.text("notify_turn_body"), "claim",
              t.duration(std::max<std::int64_t>(n.claim_until_s - now_s, 0)));
}

}  // namespace

NoticeWordingFn make_notice_wording(const Site& site, std::string public_base,
                                    const core::Clock& clock) {
  while (!public_base.empty() && public_base.back() == '/') public_base.pop_back();
  return [&site, &clock, base = std::move(public_base)](const engine::PendingNotice& n) {
    // The language the visitor read the page in ("de", or "de-CH" from an app), else English.
    const Catalog& t = site.languages().get(site.languages().choose(std::nullopt, n.lang));
    NoticeWords w;
    w.room_title = n.room;
    const bool turn = n.kind == core::NoticeKind::turn;
    w.title = fill(t.text(turn ? "notify_turn_title" : "notify_near_title"), "room", n.room);
    w.body = turn ? turn_body(t, n, clock.now_s()) : near_body(t, n);
    // Back to the place: its resume link, in the visitor's language. (A ticket id that is not
    // one cannot have a token; the room's page is the best left to offer.)
    w.link = base + "/r/" + n.room;
    if (auto token = site.resume_tokens().token_for(n.ticket)) w.link += "/resume/" + *token;
    if (t.lang() != kDefaultLanguage) w.link += "?lang=" + t.lang();
    w.link_label = t.text("notify_link_label");
    w.footer = fill(t.text("notify_email_footer"), "room", n.room);
    return w;
  };
}

}  // namespace waitroom::web
