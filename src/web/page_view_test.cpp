#include "web/page_view.hpp"

#include <gtest/gtest.h>

#include "config/server_config.hpp"
#include "core/rfc3339.hpp"
#include "web/site.hpp"
#include "web/template.hpp"

namespace waitroom::web {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

const Site& site() {
  static const std::unique_ptr<Site> s = [] {
    config::ServerConfig cfg;
    auto created = Site::create(cfg, "0123456789abcdef0123456789abcdef");
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().detail);
    return std::move(*created);
  }();
  return *s;
}

store::RoomView room(std::string name = "sale") {
  store::RoomView r;
  r.name = std::move(name);
  return r;
}

store::TicketView ticket(core::TicketStatus status, std::uint64_t position,
                         std::optional<std::uint64_t> ahead) {
  store::TicketView t;
  t.ticket = "00000004-0000-0100-0123-456789abcdef";
  t.room = "sale";
  t.state.status = status;
  t.state.position = position;
  t.state.ahead = ahead;
  return t;
}

struct Rendered {
  PageModel model;
  std::string html;
};

Rendered render(const PageInput& in, std::string_view lang = "en") {
  const Catalog& catalog = site().languages().get(lang);
  PageInput input = in;
  input.now_s = in.now_s ? in.now_s : kNow;
  input.css_url = site().css_url();
  input.script_url = site().script_url();
  Rendered out{build_page(input, catalog, site().languages()), ""};
  out.html = site().theme_for(input.room->name).page->render(out.model.data, catalog);
  return out;
}

bool contains(const std::string& html, std::string_view text) {
  return html.find(text) != std::string::npos;
}

// The page's CSP allows no inline script or style and nothing refreshes it by itself.
void expect_csp_safe(const std::string& html) {
  for (auto at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) {
    const std::string tag = html.substr(at, html.find('>', at) - at);
    EXPECT_TRUE(contains(tag, " src=\"")) << tag;
  }
  EXPECT_FALSE(contains(html, " style=\""));
  EXPECT_FALSE(contains(html, "<style"));
  EXPECT_FALSE(contains(html, "http-equiv"));
  for (std::string_view handler : {" onclick=", " onload=", " onerror=", " onsubmit=", " onfocus="})
    EXPECT_FALSE(contains(html, handler));
}

TEST(PageView, JoinViewForAVisitorWithoutAPlace) {
  const store::RoomView r = room();
  PageInput in;
  in.room = &r;
  in.return_url = "https://shop.example/basket?a=1&b=\"2\"";
  const Rendered p = render(in);
  EXPECT_EQ(p.model.view, View::join);
  EXPECT_EQ(p.model.signature, "join|open|fifo");
  EXPECT_TRUE(contains(p.html, "<html lang=\"en\">"));
  EXPECT_TRUE(contains(p.html, "Join the line"));
  EXPECT_TRUE(contains(p.html, "action=\"/r/sale/join\""));
  EXPECT_TRUE(contains(
      p.html, "name=\"return\" value=\"https://shop.example/basket?a=1&amp;b=&quot;2&quot;\""));
  EXPECT_FALSE(contains(p.html, "data-wr-ticket"));
  EXPECT_FALSE(contains(p.html, "name=\"lang\""));
  expect_csp_safe(p.html);
}

TEST(PageView, TheOperatorsMessageIsABannerOfEscapedText) {
  store::RoomView r = room();
  PageInput in;
  in.room = &r;
  Rendered p = render(in);
  EXPECT_TRUE(contains(p.html, "id=\"wr-message\""))
      << "the live region is there for the script to fill in";
  EXPECT_TRUE(contains(p.html, "data-wr-message hidden>"));

  r.message = std::make_shared<const core::RoomMessage>(
      core::RoomMessage{"Starts <script>alert(1)</script> & \"late\"", kNow});
  for (const auto& t : {std::optional<store::TicketView>(),
                        std::optional(ticket(core::TicketStatus::waiting, 5, 4))}) {
    in.ticket = t ? &*t : nullptr;
    p = render(in);
    EXPECT_TRUE(contains(p.html, "data-wr-message>"));
    EXPECT_TRUE(contains(p.html, "Message from the organisers"));
    EXPECT_TRUE(
        contains(p.html, "Starts &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;late&quot;"));
    EXPECT_FALSE(contains(p.html, "<script>alert"));
    // Above the card, outside the region the script swaps.
    EXPECT_LT(p.html.find("id=\"wr-message\""), p.html.find("<main"));
    EXPECT_TRUE(contains(p.html, "role=\"status\" aria-live=\"polite\""));
    expect_csp_safe(p.html);
  }
}

TEST(PageView, ClosedRoomOffersNoPlace) {
  store::RoomView r = room();
  r.queueing = core::Queueing::reject;
  PageInput in;
  in.room = &r;
  Rendered p = render(in);
  EXPECT_EQ(p.model.view, View::closed);
  EXPECT_TRUE(contains(p.html, "closed"));
  EXPECT_FALSE(contains(p.html, "Join the line"));
  EXPECT_FALSE(contains(p.html, "It opens at"));
  // Closed until its next event: it says when that opens.
  r.event = core::EventStatus{"scheduled",
                              core::ScheduledEvent{kNow + 3600, kNow + 7200, std::nullopt,
                                                   std::nullopt, std::nullopt, std::nullopt},
                              std::nullopt};
  p = render(in);
  EXPECT_TRUE(contains(p.html, "It opens at 2027-01-15 09:00 UTC."));
}

TEST(PageView, WaitingInLineShowsPlaceEstimateAndProgress) {
  const store::RoomView r = room();
  store::TicketView t = ticket(core::TicketStatus::waiting, 1204, 1203);
  t.state.eta = core::Eta{300, 540};
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  in.start_ahead = 2000;
  in.resume_url = "http://queue.example/r/sale/resume/abc";
  in.resume_qr = "<svg class=\"wr-qr\"></svg>";
  const Rendered p = render(in);
  EXPECT_EQ(p.model.view, View::waiting);
  EXPECT_EQ(p.model.signature, "waiting|open|fifo");
  EXPECT_TRUE(contains(p.html, "You are in line"));
  EXPECT_TRUE(contains(p.html, "data-wr=\"ahead\">1,203</p>"));
  EXPECT_TRUE(contains(p.html, "people ahead of you"));
  EXPECT_TRUE(contains(p.html, "Your number is 1,204."));
  EXPECT_TRUE(contains(p.html, "value=\"39\""));  // (1 - 1204/2001) of the way
  EXPECT_TRUE(contains(p.html, "39% of the way since you joined"));
  EXPECT_TRUE(contains(p.html, "5 min to 9 min"));
  EXPECT_TRUE(contains(
      p.html, "Half of the people in your place get in within 5 min, nine in ten within 9 min."));
  EXPECT_TRUE(contains(p.html, "Check again"));
  EXPECT_TRUE(contains(p.html, "href=\"/r/sale\""));
  EXPECT_TRUE(contains(p.html, "data-wr-ticket=\"00000004-0000-0100-0123-456789abcdef\""));
  EXPECT_TRUE(contains(p.html, "data-wr-ahead=\"1203\" data-wr-start-ahead=\"2000\""));
  EXPECT_TRUE(contains(p.html, "http://queue.example/r/sale/resume/abc"));
  EXPECT_TRUE(contains(p.html, "<svg class=\"wr-qr\"></svg>"));
  EXPECT_FALSE(contains(p.html, "paused"));
  expect_csp_safe(p.html);
}

TEST(PageView, OnePersonAheadIsSingular) {
  const store::RoomView r = room();
  const store::TicketView t = ticket(core::TicketStatus::waiting, 2, 1);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  const Rendered p = render(in);
  EXPECT_TRUE(contains(p.html, "data-wr=\"ahead\">1</p>"));
  EXPECT_TRUE(contains(p.html, "person ahead of you"));
  EXPECT_TRUE(contains(p.html, "value=\"0\""));  // no start known: the bar starts now
  EXPECT_TRUE(contains(p.html, "No estimate yet"));
}

TEST(PageView, NobodyAheadMeansNext) {
  const store::RoomView r = room();
  const store::TicketView t = ticket(core::TicketStatus::waiting, 1, 0);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  const Rendered p = render(in);
  EXPECT_TRUE(contains(p.html, "data-wr=\"ahead\">0</p>"));
  EXPECT_TRUE(contains(p.html, "nobody ahead of you: you are next"));
  EXPECT_TRUE(contains(p.html, "data-wr-announce=\"Nobody ahead of you: you are next.\""));
}

TEST(PageView, PausedRoomSaysSo) {
  store::RoomView r = room();
  r.settings.state = core::RoomState::paused;
  const store::TicketView t = ticket(core::TicketStatus::waiting, 5, 4);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  const Rendered p = render(in);
  EXPECT_EQ(p.model.signature, "waiting|paused|fifo");
  EXPECT_TRUE(contains(p.html, "The line is paused for the moment. You keep your place."));
  EXPECT_TRUE(contains(p.html, "data-wr-announce=\"The line is paused. You keep your place.\""));
}

TEST(PageView, RandomQueueingShowsNoOrder) {
  store::RoomView r = room();
  r.queueing = core::Queueing::random;
  const store::TicketView t = ticket(core::TicketStatus::waiting, 17, std::nullopt);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  const Rendered p = render(in);
  EXPECT_TRUE(contains(p.html, "Your number is 17. Places are drawn at random"));
  EXPECT_FALSE(contains(p.html, "data-wr=\"ahead\""));
  EXPECT_FALSE(contains(p.html, "<progress"));
}

TEST(PageView, PrequeueCountsDownToTheStart) {
  store::RoomView r = room();
  r.event = core::EventStatus{"prequeue",
                              core::ScheduledEvent{kNow - 60, kNow + 125, std::nullopt,
                                                   std::nullopt, std::nullopt, std::nullopt},
                              41};
  PageInput in;
  in.room = &r;
  Rendered p = render(in);
  EXPECT_EQ(p.model.signature, "join|prequeue|fifo");
  EXPECT_TRUE(contains(p.html, "The line opens in"));
  EXPECT_TRUE(contains(p.html, "data-wr=\"countdown\">2 min 05 s</p>"));
  EXPECT_TRUE(contains(p.html, "Join the line"));
  EXPECT_TRUE(contains(p.html, "data-wr-event-start=\"" + std::to_string(kNow + 125) + "\""));
  const store::TicketView t = ticket(core::TicketStatus::waiting, 3, std::nullopt);
  in.ticket = &t;
  p = render(in);
  EXPECT_EQ(p.model.signature, "waiting|prequeue|fifo");
  // Not "You are in line" above "The line opens in": the line starts at the draw.
  EXPECT_FALSE(contains(p.html, "You are in line"));
  EXPECT_TRUE(contains(p.html, "<h1 id=\"wr-title\" tabindex=\"-1\">Your place is saved</h1>"));
  EXPECT_TRUE(contains(p.html, "data-wr=\"countdown\">2 min 05 s</p>"));
  EXPECT_TRUE(contains(p.html, "drawn in random order"));
  EXPECT_FALSE(contains(p.html, "Estimated wait"));
}

// A drawing's three pages (registered, won, waitlist #n) and its closed registration.
TEST(PageView, ADrawingSaysRegisteredWonOrTheWaitlistNumber) {
  core::ScheduledEvent e{kNow - 60,    kNow + 125,           std::nullopt,
                         std::nullopt, core::Queueing::draw, 500};
  store::RoomView r = room();
  r.event = core::EventStatus{"prequeue", e, 1};
  PageInput in;
  in.room = &r;
  Rendered p = render(in);
  EXPECT_TRUE(contains(p.html, "500 winners are drawn at random from everyone registered"));
  store::TicketView t = ticket(core::TicketStatus::waiting, 3, std::nullopt);
  t.state.drawing = core::DrawStanding::registered;
  in.ticket = &t;
  p = render(in);
  EXPECT_TRUE(contains(p.html, ">You are registered for the drawing</h1>"));
  EXPECT_TRUE(contains(p.html, "data-wr-drawing=\"registered\""));

  // The start: the seed drew 500 winners.
  r.event = core::EventStatus{"running", e, 1};
  r.queueing = core::Queueing::draw;
  core::DrawInfo d;
  d.event_start_s = e.start_s;
  d.started_at_s = e.start_s;
  d.winners = 500;
  r.draws = {d};
  r.drawing = d;
  t = ticket(core::TicketStatus::waiting, 3, 12);
  t.state.drawing = core::DrawStanding::won;
  p = render(in);
  EXPECT_TRUE(contains(p.html, ">You won a turn in the drawing</h1>"));
  EXPECT_TRUE(contains(p.html, "data-wr=\"ahead\">12</p>"));
  t = ticket(core::TicketStatus::waiting, 3, 640);
  t.state.drawing = core::DrawStanding::waitlist;
  t.state.waitlist_position = 140;
  p = render(in);
  EXPECT_TRUE(contains(p.html, ">You are on the waitlist</h1>"));
  EXPECT_TRUE(contains(p.html, "data-wr=\"waitlist\">140</p>"));
  EXPECT_TRUE(contains(p.html, "data-wr-drawing=\"waitlist:140\""));
  EXPECT_FALSE(contains(p.html, "data-wr=\"ahead\""));  // not the people ahead, nor an estimate
  EXPECT_FALSE(contains(p.html, "Estimated wait"));
  expect_csp_safe(p.html);

  // A newcomer after the start: registration closed, and no "try again".
  in.ticket = nullptr;
  p = render(in);
  EXPECT_EQ(p.model.view, View::closed);
  EXPECT_TRUE(contains(p.html, "Registration for this drawing closed at its start"));
  EXPECT_FALSE(contains(p.html, "no new places are being given"));
}

// A sold-out room (its inventory at 0): a newcomer sees it instead of a join form; a visitor
// already waiting sees it too, keeps the place (and the page keeps following the ticket), and
// gets the waiting view back when items come back.
TEST(PageView, ASoldOutRoomSaysSoToNewcomersAndToThoseWaiting) {
  store::RoomView r = room();
  r.sold_out = true;
  PageInput in;
  in.room = &r;
  Rendered p = render(in);
  EXPECT_EQ(p.model.view, View::sold_out);
  EXPECT_EQ(p.model.signature, "sold_out|sold_out|fifo");
  EXPECT_TRUE(contains(p.html, ">Sold out</h1>"));
  EXPECT_TRUE(contains(p.html,
                       "Every item has been sold, so no new places are being given. If "
                       "items are returned, the waiting room opens again"));
  EXPECT_FALSE(contains(p.html, "Join the line"));
  EXPECT_FALSE(contains(p.html, "action=\"/r/sale/join\""));
  EXPECT_FALSE(contains(p.html, "data-wr-ticket"));
  EXPECT_FALSE(contains(p.html, "Check again"));
  EXPECT_TRUE(contains(p.html, "data-wr-announce=\"Sold out\""));
  expect_csp_safe(p.html);

  // Waiting: no estimate, no people ahead; the place is kept and followed live.
  store::TicketView t = ticket(core::TicketStatus::waiting, 12, 11);
  t.state.sold_out = true;
  in.ticket = &t;
  in.resume_url = "http://queue.example/r/sale/resume/abc";
  p = render(in);
  EXPECT_EQ(p.model.view, View::sold_out);
  EXPECT_EQ(p.model.signature, "sold_out|sold_out|fifo");
  EXPECT_TRUE(contains(p.html, ">Sold out</h1>"));
  EXPECT_TRUE(contains(p.html,
                       "You keep your place: if items are returned, the line moves on "
                       "again in order."));
  EXPECT_TRUE(contains(p.html, "Your number is 12."));
  EXPECT_TRUE(contains(p.html, "data-wr-ticket=\"00000004-0000-0100-0123-456789abcdef\""));
  EXPECT_TRUE(contains(p.html, "Check again"));
  EXPECT_TRUE(contains(p.html, "http://queue.example/r/sale/resume/abc"));
  EXPECT_TRUE(contains(
      p.html, "data-wr-announce=\"Sold out. You keep your place in case items are returned.\""));
  EXPECT_FALSE(contains(p.html, "Every item has been sold, so no new places"));
  EXPECT_FALSE(contains(p.html, "data-wr=\"ahead\""));
  EXPECT_FALSE(contains(p.html, "data-wr-ahead"));
  EXPECT_FALSE(contains(p.html, "Estimated wait"));
  expect_csp_safe(p.html);

  // A turn already given is kept: an eligible visitor still goes in.
  t = ticket(core::TicketStatus::eligible, 12, 0);
  p = render(in);
  EXPECT_EQ(p.model.view, View::eligible);

  // Items came back: the waiting view, with the place.
  r.sold_out = false;
  t = ticket(core::TicketStatus::waiting, 12, 11);
  p = render(in);
  EXPECT_EQ(p.model.view, View::waiting);
  EXPECT_EQ(p.model.signature, "waiting|open|fifo");
  EXPECT_TRUE(contains(p.html, "data-wr=\"ahead\">11</p>"));

  // A closed room stays closed; every language has the words.
  r.sold_out = true;
  in.ticket = nullptr;
  r.queueing = core::Queueing::reject;
  EXPECT_EQ(render(in).model.view, View::closed);
  r.queueing = core::Queueing::fifo;
  for (const auto& [lang, title] : {std::pair{"de", "Ausverkauft"}, std::pair{"fr", "Épuisé"},
                                    std::pair{"es", "Agotado"}, std::pair{"ja", "売り切れ"}}) {
    p = render(in, lang);
    EXPECT_EQ(p.model.view, View::sold_out) << lang;
    EXPECT_TRUE(contains(p.html, std::string(">") + title + "</h1>")) << lang;
    EXPECT_FALSE(contains(p.html, "Every item has been sold")) << lang;
  }
}

// Issue 17 item 12, in every language the site has: no sentence ends in a double period (German
// durations end in "Min."), and when both figures round alike the sentence says it once.
TEST(PageView, EstimateSentencesReadRightInEveryLanguage) {
  const store::RoomView r = room();
  store::TicketView t = ticket(core::TicketStatus::waiting, 40, 39);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  for (const std::string lang : {"en", "de", "es", "fr", "ja"}) {
    for (const core::Eta eta : {core::Eta{180, 300}, core::Eta{170, 180}, core::Eta{7200, 9000}}) {
      t.state.eta = eta;
      const Rendered p = render(in, lang);
      const Catalog& c = site().languages().get(lang);
      const std::string p90 = c.duration(eta.p90_s);
      EXPECT_FALSE(contains(p.html, "..")) << lang << " " << eta.p50_s << "/" << eta.p90_s;
      std::size_t times = 0;
      for (auto at = p.html.find(html_escape(p90)); at != std::string::npos;
           at = p.html.find(html_escape(p90), at + 1))
        ++times;
      // Once in the range, once in the sentence (the range is one figure when they round alike).
      EXPECT_EQ(times, 2u) << lang << " " << p90 << " in " << p.html;
    }
  }
}

TEST(PageView, EligibleOffersContinueAndSaysForHowLong) {
  store::RoomView r = room();
  r.settings.claim_timeout_s = 900;
  store::TicketView t = ticket(core::TicketStatus::eligible, 3, std::nullopt);
  t.state.admitted_at_s = kNow - 60;
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  in.return_url = "/basket";
  const Rendered p = render(in);
  EXPECT_EQ(p.model.view, View::eligible);
  EXPECT_TRUE(contains(p.html, "It&#39;s your turn"));
  EXPECT_TRUE(contains(p.html, "action=\"/r/sale/enter\""));
  EXPECT_TRUE(contains(p.html, "<input type=\"hidden\" name=\"return\" value=\"/basket\">"));
  EXPECT_TRUE(contains(p.html, ">Continue</button>"));
  EXPECT_TRUE(contains(p.html, "Please continue within 14 min"));
  EXPECT_TRUE(
      contains(p.html, "data-wr-announce=\"It&#39;s your turn. Press Continue to go in.\""));
  expect_csp_safe(p.html);
}

TEST(PageView, AnEndedPlaceIsExplainedAndTheVisitorMayJoinAgain) {
  const store::RoomView r = room();
  const store::TicketView t = ticket(core::TicketStatus::expired, 3, std::nullopt);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  const Rendered p = render(in);
  EXPECT_EQ(p.model.view, View::join);
  EXPECT_TRUE(contains(p.html, "Your earlier place is no longer valid"));
  EXPECT_TRUE(contains(p.html, "Join the line"));
  EXPECT_FALSE(contains(p.html, "data-wr-ticket"));
}

TEST(PageView, InAnotherLanguageTheChoiceIsKept) {
  const store::RoomView r = room();
  const store::TicketView t = ticket(core::TicketStatus::waiting, 12346, 12345);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  in.lang_param = "de";
  Rendered p = render(in, "de");
  EXPECT_TRUE(contains(p.html, "<html lang=\"de\">"));
  EXPECT_TRUE(contains(p.html, "Sie sind in der Warteschlange"));
  EXPECT_TRUE(contains(p.html, "data-wr=\"ahead\">12.345</p>"));
  EXPECT_TRUE(contains(p.html, "href=\"/r/sale?lang=de\""));  // Check again keeps the language
  EXPECT_TRUE(contains(p.html, "hreflang=\"ja\" lang=\"ja\">日本語</a>"));
  EXPECT_TRUE(contains(p.html, "hreflang=\"de\" lang=\"de\" aria-current=\"true\">Deutsch</a>"));
  in.ticket = nullptr;
  p = render(in, "ja");
  EXPECT_TRUE(contains(p.html, "<html lang=\"ja\">"));
  EXPECT_TRUE(contains(p.html, "<input type=\"hidden\" name=\"lang\" value=\"de\">"));
}

TEST(PageView, PageUrlKeepsReturnAndLanguage) {
  EXPECT_EQ(page_url("r", "", ""), "/r/r");
  EXPECT_EQ(page_url("r", "/a b?c=d", ""), "/r/r?return=%2Fa%20b%3Fc%3Dd");
  EXPECT_EQ(page_url("r", "/x", "fr"), "/r/r?return=%2Fx&lang=fr");
  EXPECT_EQ(page_url("r", "", "fr"), "/r/r?lang=fr");
}

TEST(PageView, ProgressCountsTheVisitorsOwnStep) {
  EXPECT_EQ(progress_percent(9, 9), 0);
  EXPECT_EQ(progress_percent(9, 4), 50);
  EXPECT_EQ(progress_percent(9, 0), 90);
  EXPECT_EQ(progress_percent(3, 10), 0);  // moved back (a draw): never negative
  EXPECT_EQ(progress_percent(0, 0), 0);
}

}  // namespace
}  // namespace waitroom::web

namespace waitroom::web {
namespace {

// Leave and come back: "Notify me" on the waiting view, offered when the room keeps the places of
// visitors who are away and the server notifies by e-mail or push.
TEST(PageView, NotifyMeIsOfferedWhereTheRoomAndServerTakeNotices) {
  store::RoomView r = room();
  const store::TicketView t = ticket(core::TicketStatus::waiting, 5, 4);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  in.notice_channels = {"push", "email", "webhook"};
  // The room notifies nobody (away_max_s 0): no section.
  Rendered p = render(in);
  EXPECT_FALSE(contains(p.html, "Notify me"));
  EXPECT_FALSE(contains(p.html, "data-wr-notify"));

  r.settings.away_max_s = 3600;
  p = render(in);
  EXPECT_TRUE(contains(p.html, "<summary id=\"wr-notify-title\">Notify me when my turn is near"));
  EXPECT_TRUE(contains(p.html, "action=\"/r/sale/notify\" data-wr-notify=\"email\""));
  EXPECT_TRUE(contains(p.html, "<label for=\"wr-notify-email\">Your e-mail address</label>"));
  EXPECT_TRUE(contains(p.html, "name=\"email\" type=\"email\""));
  EXPECT_TRUE(contains(p.html, ">E-mail me</button>"));
  // The push button waits for the script (hidden without it).
  EXPECT_TRUE(contains(p.html, "data-wr=\"notify-push-row\" hidden>"));
  EXPECT_TRUE(contains(p.html, "data-wr-notify=\"\""));  // no notice chosen yet
  EXPECT_TRUE(contains(p.html, "Keep this page open: leaving it"));
  expect_csp_safe(p.html);

  // Only what the server has: e-mail alone, push alone, or neither (webhook is no visitor's).
  in.notice_channels = {"email", "webhook"};
  p = render(in);
  EXPECT_TRUE(contains(p.html, "E-mail me"));
  EXPECT_FALSE(contains(p.html, "notify-push"));
  in.notice_channels = {"push", "webhook"};
  p = render(in);
  EXPECT_FALSE(contains(p.html, "E-mail me"));
  EXPECT_TRUE(contains(p.html, "Notify me on this device"));
  in.notice_channels = {"webhook"};
  EXPECT_FALSE(contains(render(in).html, "Notify me"));
  in.notice_channels = {};
  EXPECT_FALSE(contains(render(in).html, "Notify me"));

  // Not on the other views.
  in.notice_channels = {"push", "email", "webhook"};
  const store::TicketView eligible = ticket(core::TicketStatus::eligible, 5, std::nullopt);
  in.ticket = &eligible;
  EXPECT_FALSE(contains(render(in).html, "Notify me"));
  in.ticket = nullptr;
  EXPECT_FALSE(contains(render(in).html, "Notify me"));
}

TEST(PageView, TheChosenNoticeShowsItsStateAndHowToStopIt) {
  store::RoomView r = room();
  r.settings.away_max_s = 3600;
  store::TicketView t = ticket(core::TicketStatus::waiting, 5, 4);
  t.state.notice = core::Notice{core::NoticeChannel::email, {}, "en", kNow};
  t.state.away_until_s = kNow + 3600;
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  in.notice_channels = {"push", "email", "webhook"};
  Rendered p = render(in);
  EXPECT_TRUE(contains(p.html, "<h2 id=\"wr-notify-title\" tabindex=\"-1\">We will let you know"));
  EXPECT_TRUE(contains(p.html, "We will e-mail you when your turn is near and when it comes."));
  EXPECT_TRUE(contains(p.html, "You can close this page: your place is kept until " +
                                   core::format_rfc3339(kNow + 3600).substr(0, 10) + " "));
  EXPECT_TRUE(contains(p.html, "data-wr-at=\"" + core::format_rfc3339(kNow + 3600) + "\""));
  EXPECT_TRUE(contains(p.html, "data-wr-notify=\"email:none:none\""));
  EXPECT_TRUE(contains(p.html, "name=\"cancel\" value=\"1\""));
  EXPECT_TRUE(contains(p.html, ">Stop notifying me</button>"));
  // No form to choose again, and no "keep this page open".
  EXPECT_FALSE(contains(p.html, "E-mail me"));
  EXPECT_FALSE(contains(p.html, "Keep this page open: leaving it"));
  EXPECT_FALSE(contains(p.html, "wr-note"));
  expect_csp_safe(p.html);

  // Push, the near message sent.
  t.state.notice->channel = core::NoticeChannel::push;
  t.state.notice->near = core::NoticeProgress::sent;
  p = render(in);
  EXPECT_TRUE(contains(p.html, "We will send a notification to this device"));
  EXPECT_TRUE(contains(p.html, "Your turn is near: we have let you know."));
  EXPECT_TRUE(contains(p.html, "data-wr-notify=\"push:sent:none\""));

  // A message given up: the page says so.
  t.state.notice->near = core::NoticeProgress::failed;
  p = render(in);
  EXPECT_TRUE(
      contains(p.html, "data-wr=\"notify-failed\">A message to you could not be delivered."));
  EXPECT_TRUE(contains(p.html, "data-wr-notify=\"push:failed:none\""));

  // A webhook notice (set by an app): told, in general words; a notice the visitor chose stays
  // shown (and can be stopped) even where the room or server no longer offers new ones.
  t.state.notice->channel = core::NoticeChannel::webhook;
  r.settings.away_max_s = 0;
  in.notice_channels = {};
  p = render(in);
  EXPECT_TRUE(contains(p.html, "You will be told when your turn is near and when it comes."));
  EXPECT_TRUE(contains(p.html, "Stop notifying me"));

  // The time passed: no "until" in the past.
  t.state.away_until_s = kNow - 1;
  EXPECT_FALSE(contains(render(in).html, "data-wr=\"notify-away\""));
}

TEST(PageView, NotifyMeInAnotherLanguageKeepsItInTheForms) {
  store::RoomView r = room();
  r.settings.away_max_s = 600;
  const store::TicketView t = ticket(core::TicketStatus::waiting, 5, 4);
  PageInput in;
  in.room = &r;
  in.ticket = &t;
  in.lang_param = "de";
  in.notice_channels = {"email", "webhook"};
  const Rendered p = render(in, "de");
  EXPECT_TRUE(contains(p.html, "Mich benachrichtigen, wenn ich bald an der Reihe bin"));
  const auto form = p.html.find("data-wr-notify=\"email\">");
  ASSERT_NE(form, std::string::npos);
  const auto lang_field = p.html.find("<input type=\"hidden\" name=\"lang\" value=\"de\">", form);
  EXPECT_LT(lang_field, p.html.find("</form>", form));
  // The script's words for what it says itself.
  EXPECT_TRUE(contains(p.html, "notify_invalid_email"));
  EXPECT_TRUE(contains(p.html, "notify_away"));
}

}  // namespace
}  // namespace waitroom::web
