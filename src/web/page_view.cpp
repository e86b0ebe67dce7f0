#include "web/page_view.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "core/rfc3339.hpp"
#include "http/query.hpp"

namespace waitroom::web {

namespace json = boost::json;
using core::TicketStatus;

namespace {

// The strings the page's script needs to write numbers, estimates and announcements itself.
constexpr std::string_view kScriptStrings[] = {
    "pow_working",
    "ahead_one",
    "ahead_other",
    "announce_ahead_one",
    "announce_ahead_other",
    "eta_range",
    "progress_label",
    "duration_under_minute",
    "duration_minutes",
    "duration_hours",
    "duration_hours_minutes",
    "countdown_hms",
    "countdown_ms",
    "countdown_s",
    "connection_lost",
    "eta_detail",
    "eta_detail_one",
    "ahead_none",
    "announce_next",
    "notify_away",
    "notify_cancelled",
    "notify_invalid_email",
    "notify_unavailable",
    "notify_push_denied",
    "notify_push_failed",
    "notify_working",
};

bool is_live(const store::TicketView* t) {
  if (!t) return false;
  const TicketStatus s = t->state.status;
  return s == TicketStatus::waiting || s == TicketStatus::eligible || s == TicketStatus::admitted;
}

// "2026-12-01T10:00:00Z" -> "2026-12-01 10:00 UTC"; the script rewrites it in local time.
std::string display_time(std::int64_t unix_s) {
  std::string t = core::format_rfc3339(unix_s);
  if (t.size() >= 16) return t.substr(0, 10) + " " + t.substr(11, 5) + " UTC";
  return t;
}

std::string fill(std::string_view text, std::string_view name, std::string_view value) {
  std::string out(text);
  const std::string placeholder = "{" + std::string(name) + "}";
  for (auto at = out.find(placeholder); at != std::string::npos;
       at = out.find(placeholder, at + value.size()))
    out.replace(at, placeholder.size(), value);
  return out;
}

void attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_escaped(out, value);
  out += '"';
}

// `joining`: the join view's form also sends the invitation on (the waiting view's code form must
// not: a join takes a code or an invitation).
std::string hidden_fields(const PageInput& in, bool joining) {
  std::string out;
  if (!in.return_url.empty()) {
    out += "<input type=\"hidden\" name=\"return\" value=\"";
    append_escaped(out, in.return_url);
    out += "\">";
  }
  if (!in.lang_param.empty()) {
    out += "<input type=\"hidden\" name=\"lang\" value=\"";
    append_escaped(out, in.lang_param);
    out += "\">";
  }
  if (joining && !in.invitation.empty()) {
    out += "<input type=\"hidden\" name=\"invite\" value=\"";
    append_escaped(out, in.invitation);
    out += "\">";
  }
  return out;
}

std::string language_links(const PageInput& in, const Catalog& current,
                           const Languages& languages) {
  std::string out = "<ul class=\"wr-languages\">";
  for (const std::string& code : languages.codes()) {
    const Catalog& c = languages.get(code);
    out += "<li><a";
    attribute(out, "href", page_url(in.room->name, in.return_url, code));
    attribute(out, "hreflang", code);
    attribute(out, "lang", code);
    if (code == current.lang()) out += " aria-current=\"true\"";
    out += ">";
    append_escaped(out, c.text("language_name"));
    out += "</a></li>";
  }
  out += "</ul>";
  return out;
}

// The room takes no more waiting visitors (abuse.max_waiting): new ones see the "full" view.
bool is_full(const store::RoomView& room) {
  const auto& cap = room.settings.abuse.max_waiting;
  return cap && room.counters.waiting >= static_cast<std::uint64_t>(*cap);
}

std::string script_strings(const Catalog& catalog) {
  json::object o;
  for (std::string_view key : kScriptStrings) o[key] = catalog.text(key);
  return json::serialize(o);
}

// Leave and come back: the waiting view's "Notify me" section, offered when the room keeps places
// of visitors who are away (away_max_s) and the server notifies by push or e-mail, and the state
// of the notice the visitor chose. Returns the notice's signature for the script ("channel:near:
// turn", empty without a notice), or nullopt when the page shows no such section.
std::optional<std::string> notify_section(const PageInput& in, const core::TicketState& st,
                                          TemplateData& d) {
  auto offers = [&](std::string_view channel) {
    return std::ranges::find(in.notice_channels, channel) != in.notice_channels.end();
  };
  const bool email = offers("email"), push = offers("push");
  if (!st.notice && (in.room->settings.away_max_s <= 0 || (!email && !push))) return std::nullopt;
  d.flag("notify", true);
  d.set("notify_action", "/r/" + in.room->name + "/notify");
  d.flag("notify_email", email);
  d.flag("notify_push", push);
  if (!st.notice) return std::string();
  const core::Notice& n = *st.notice;
  d.flag("notify_on", true);
  d.flag("notify_by_email", n.channel == core::NoticeChannel::email);
  d.flag("notify_by_push", n.channel == core::NoticeChannel::push);
  d.flag("notify_by_other", n.channel == core::NoticeChannel::webhook);
  d.flag("notify_near_sent", n.near == core::NoticeProgress::sent);
  d.flag("notify_failed",
         n.near == core::NoticeProgress::failed || n.turn == core::NoticeProgress::failed);
  if (st.away_until_s > in.now_s) {
    d.set("away_until", display_time(st.away_until_s));
    d.set("away_until_iso", core::format_rfc3339(st.away_until_s));
  }
  return std::string(core::to_string(n.channel)) + ":" + std::string(core::to_string(n.near)) +
         ":" + std::string(core::to_string(n.turn));
}

}  // namespace

std::string_view to_string(View view) {
  switch (view) {
    case View::join:
      return "join";
    case View::closed:
      return "closed";
    case View::sold_out:
      return "sold_out";
    case View::full:
      return "full";
    case View::waiting:
      return "waiting";
    case View::eligible:
      return "eligible";
  }
  return "join";
}

const TemplateSchema& page_schema() {
  static const TemplateSchema schema{{
      // text
      {"lang", VarKind::text},
      {"room", VarKind::text},
      {"title", VarKind::text},
      {"notice", VarKind::text},
      {"css_url", VarKind::text},
      {"script_url", VarKind::text},
      {"theme_css_url", VarKind::text},
      {"logo_url", VarKind::text},
      {"self_url", VarKind::text},
      {"join_action", VarKind::text},
      {"enter_action", VarKind::text},
      {"sign_in_action", VarKind::text},
      {"position", VarKind::text},
      {"ahead", VarKind::text},
      {"ahead_label", VarKind::text},
      {"progress", VarKind::text},
      {"eta_text", VarKind::text},
      {"p50", VarKind::text},
      {"p90", VarKind::text},
      {"countdown", VarKind::text},
      {"start_time", VarKind::text},
      {"start_iso", VarKind::text},
      {"claim_left", VarKind::text},
      {"resume_url", VarKind::text},
      {"message", VarKind::text},
      {"lane", VarKind::text},
      {"party_size", VarKind::text},
      {"winners", VarKind::text},
      {"waitlist_position", VarKind::text},
      {"notify_action", VarKind::text},
      {"away_until", VarKind::text},
      {"away_until_iso", VarKind::text},
      // server-built fragments
      {"page_attributes", VarKind::raw},
      {"form_fields", VarKind::raw},
      {"sign_in_fields", VarKind::raw},
      {"party_options", VarKind::raw},
      {"resume_qr", VarKind::raw},
      {"language_links", VarKind::raw},
      // flags
      {"view_join", VarKind::flag},
      {"view_closed", VarKind::flag},
      {"view_sold_out", VarKind::flag},
      {"view_full", VarKind::flag},
      {"pow", VarKind::flag},
      {"view_waiting", VarKind::flag},
      {"view_eligible", VarKind::flag},
      {"prequeue", VarKind::flag},
      {"has_ahead", VarKind::flag},
      {"random_order", VarKind::flag},
      {"has_eta", VarKind::flag},
      {"eta_configured", VarKind::flag},
      {"eta_one_figure", VarKind::flag},
      {"paused", VarKind::flag},
      {"has_claim_time", VarKind::flag},
      {"has_next_opening", VarKind::flag},
      {"has_resume", VarKind::flag},
      {"takes_codes", VarKind::flag},
      {"has_lane", VarKind::flag},
      {"invite_needed", VarKind::flag},
      {"takes_parties", VarKind::flag},
      {"has_party", VarKind::flag},
      {"drawing", VarKind::flag},
      {"sign_in", VarKind::flag},
      {"sign_in_required", VarKind::flag},
      {"draw_closed", VarKind::flag},
      {"draw_registered", VarKind::flag},
      {"draw_won", VarKind::flag},
      {"draw_waitlist", VarKind::flag},
      {"sold_out_waiting", VarKind::flag},
      {"notify", VarKind::flag},
      {"notify_email", VarKind::flag},
      {"notify_push", VarKind::flag},
      {"notify_on", VarKind::flag},
      {"notify_by_email", VarKind::flag},
      {"notify_by_push", VarKind::flag},
      {"notify_by_other", VarKind::flag},
      {"notify_near_sent", VarKind::flag},
      {"notify_failed", VarKind::flag},
  }};
  return schema;
}

std::string page_url(std::string_view room, std::string_view return_url, std::string_view lang) {
  std::string url = "/r/" + std::string(room);
  char sep = '?';
  if (!return_url.empty()) {
    url += sep + std::string("return=") + http::percent_encode(return_url);
    sep = '&';
  }
  if (!lang.empty()) url += sep + std::string("lang=") + http::percent_encode(lang);
  return url;
}

std::string room_status(const store::RoomView& room) {
  std::string status(core::to_string(room.settings.state));
  if (status == "open" && room.event && room.event->phase == "prequeue") status = "prequeue";
  if (room.sold_out) status = "sold_out";
  return status;
}

int progress_percent(std::uint64_t start_ahead, std::uint64_t ahead) {
  if (ahead >= start_ahead) return 0;
  // Counting the visitor's own step: with nobody left ahead the bar is almost, not quite, full.
  const double left = static_cast<double>(ahead + 1) / static_cast<double>(start_ahead + 1);
  return static_cast<int>((1.0 - left) * 100.0);
}

PageModel build_page(const PageInput& in, const Catalog& t, const Languages& languages) {
  const store::RoomView& room = *in.room;
  const store::TicketView* ticket = in.ticket;
  const bool live = is_live(ticket);
  const core::DrawInfo* drawing = room.drawing ? &*room.drawing : nullptr;
  const bool closed = room.queueing == core::Queueing::reject || drawing;
  PageModel m;
  // Sold out (the room's inventory at 0): no new places, and those waiting keep theirs but see
  // that no turn comes unless items come back (the ticket's sold_out).
  if (live && ticket->state.status == TicketStatus::waiting)
    m.view = ticket->state.sold_out ? View::sold_out : View::waiting;
  else if (live)
    m.view = View::eligible;
  else
    m.view = closed          ? View::closed
             : room.sold_out ? View::sold_out
             : is_full(room) ? View::full
                             : View::join;
  const std::string status = room_status(room);
  m.signature = std::string(to_string(m.view)) + "|" + status + "|" +
                std::string(core::to_string(room.queueing));

  TemplateData& d = m.data;
  d.set("lang", t.lang());
  d.set("room", room.name);
  d.set("css_url", in.css_url);
  d.set("script_url", in.script_url);
  d.set("theme_css_url", in.theme_css_url);
  d.set("logo_url", in.logo_url);
  const std::string self = page_url(room.name, in.return_url, in.lang_param);
  d.set("self_url", self);
  d.set("join_action", "/r/" + room.name + "/join");
  d.set("enter_action", "/r/" + room.name + "/enter");
  d.set("form_fields", hidden_fields(in, m.view == View::join));
  d.set("language_links", language_links(in, t, languages));
  d.flag("view_" + std::string(to_string(m.view)), true);
  d.flag("paused", room.settings.state != core::RoomState::open);
  // The operators' message to everyone waiting: text, escaped like every text variable.
  if (room.message) d.set("message", room.message->text);
  d.flag("takes_codes", room.takes_codes);
  // An invite_only room without an invitation in hand: no join button, a word on how to get in.
  const bool invite_needed = room.settings.invitations.invite_only && in.invitation.empty();
  d.flag("invite_needed", invite_needed);
  // A room with a sign-in offers it (a GET form to web/sign_in: it goes to the identity provider);
  // one that requires it has no other join button. An invitation in hand needs no sign-in, and
  // an invite_only room takes nothing else.
  if (room.settings.login && in.invitation.empty() && !invite_needed) {
    d.flag("sign_in", true);
    d.flag("sign_in_required", room.settings.login->required);
    d.set("sign_in_action", "/r/" + room.name + "/login");
    d.set("sign_in_fields", hidden_fields(in, false));
  }
  // A room that takes parties asks how many come along (1 chosen unless the visitor changes it).
  if (room.settings.max_party_size > 1) {
    d.flag("takes_parties", true);
    std::string options;
    for (std::int64_t n = 1; n <= room.settings.max_party_size; ++n)
      options += "<option value=\"" + std::to_string(n) + "\"" + (n == 1 ? " selected" : "") + ">" +
                 t.number(static_cast<std::uint64_t>(n)) + "</option>";
    d.set("party_options", options);
  }

  // What has become of an earlier place, then any message of the handler's.
  std::string notice;
  if (ticket && !live) {
    switch (ticket->state.status) {
      case TicketStatus::completed:
      case TicketStatus::abandoned:
        notice = t.text("ended_completed");
        break;
      case TicketStatus::revoked:
        notice = t.text("ended_revoked");
        break;
      default:
        notice = t.text("ended_expired");
        break;
    }
  }
  if (!in.notice.empty()) notice += (notice.empty() ? "" : " ") + in.notice;
  d.set("notice", notice);

  // The event's start, for the pre-queue countdown and a closed room's next opening.
  const bool prequeue_phase = room.event && room.event->phase == "prequeue";
  std::optional<std::int64_t> start_s;
  if (room.event && room.event->phase != "running") start_s = room.event->event.start_s;
  if (start_s) {
    d.set("start_time", display_time(*start_s));
    d.set("start_iso", core::format_rfc3339(*start_s));
    d.set("countdown", t.countdown(*start_s - in.now_s));
  }
  // A drawing: registration in its pre-queue, then winners and a waitlist.
  if (room.event && room.event->event.queueing == core::Queueing::draw) {
    d.flag("drawing", true);
    if (drawing)
      d.set("winners", t.number(*drawing->winners));
    else if (room.event->event.winners)
      d.set("winners", t.number(static_cast<std::uint64_t>(*room.event->event.winners)));
  }

  std::string title(t.text("title_join"));
  std::string announce;
  std::optional<std::uint64_t> ahead;
  std::optional<std::string>
      notify;  // the waiting view's notice signature, when it has the section
  switch (m.view) {
    case View::join:
      d.flag("prequeue", prequeue_phase);
      d.flag("pow", room.settings.abuse.pow_difficulty_bits > 0);
      announce = notice.empty() ? title : notice;
      break;
    case View::full:
      title = t.text("title_full");
      announce = title;
      break;
    case View::sold_out:
      title = t.text("title_sold_out");
      // A waiting visitor keeps the place: the page says so, and keeps following the ticket.
      d.flag("sold_out_waiting", live);
      if (live) d.set("position", t.number(ticket->state.position));
      announce = live ? std::string(t.text("announce_sold_out")) : title;
      break;
    case View::closed: {
      title = t.text("title_closed");
      if (drawing) {
        // Registration closed at the start: say when, and that the winners are drawn.
        d.flag("draw_closed", true);
        d.set("start_time", display_time(drawing->event_start_s));
        announce = title;
        break;
      }
      // A room closed until its next event says when that opens.
      if (room.event && room.event->phase == "scheduled") {
        const std::int64_t opens = room.event->event.opens_s();
        d.set("start_time", display_time(opens));
        d.set("start_iso", core::format_rfc3339(opens));
        d.flag("has_next_opening", opens > in.now_s);
      } else {
        d.flag("has_next_opening", start_s && *start_s > in.now_s);
      }
      announce = title;
      break;
    }
    case View::waiting: {
      title = t.text("title_waiting");
      const core::TicketState& st = ticket->state;
      d.set("position", t.number(st.position));
      if (!st.lane_name.empty()) {
        d.flag("has_lane", true);
        d.set("lane", st.lane_name);
      }
      if (st.party_size > 1) {
        d.flag("has_party", true);
        d.set("party_size", t.number(st.party_size));
      }
      const bool in_prequeue = prequeue_phase && !st.ahead;
      d.flag("prequeue", in_prequeue);
      // Not "in line" yet: the line (and this visitor's place in it) exists from the draw on.
      if (in_prequeue) title = t.text("title_prequeue");
      const bool waitlisted = st.drawing == core::DrawStanding::waitlist;
      if (st.drawing == core::DrawStanding::registered) {
        d.flag("draw_registered", true);
        title = t.text("title_draw_registered");
      } else if (st.drawing == core::DrawStanding::won) {
        d.flag("draw_won", true);
        title = t.text("title_draw_won");
      } else if (waitlisted) {
        // Its number on the waitlist, not the people ahead: whether a turn comes is not known.
        d.flag("draw_waitlist", true);
        d.set("waitlist_position", t.number(st.waitlist_position));
        title = t.text("title_draw_waitlist");
      }
      if (waitlisted) {
        announce = fill(t.text("announce_draw_waitlist"), "waitlist_position",
                        t.number(st.waitlist_position));
      } else if (st.ahead && !in_prequeue) {
        ahead = st.ahead;
        d.flag("has_ahead", true);
        d.set("ahead", t.number(*st.ahead));
        d.set("ahead_label",
              std::string(*st.ahead == 0 ? t.text("ahead_none") : t.plural("ahead", *st.ahead)));
        const std::uint64_t start = in.start_ahead.value_or(*st.ahead);
        d.set("progress", std::to_string(progress_percent(start, *st.ahead)));
        announce = *st.ahead == 0
                       ? std::string(t.text("announce_next"))
                       : fill(t.plural("announce_ahead", *st.ahead), "ahead", t.number(*st.ahead));
      } else if (!in_prequeue) {
        d.flag("random_order", true);
        announce = title;
      } else {
        announce = title;
      }
      if (st.eta) {
        const std::string p50 = t.duration(st.eta->p50_s);
        const std::string p90 = t.duration(st.eta->p90_s);
        d.flag("has_eta", true);
        d.flag("eta_configured", st.eta->configured_pace);  // say what the estimate stands on
        d.set("p50", p50);
        d.set("p90", p90);
        // Both round to one figure: one figure, and a sentence that says it once.
        d.flag("eta_one_figure", p50 == p90);
        d.set("eta_text",
              p50 == p90 ? p50 : fill(fill(t.text("eta_range"), "p50", p50), "p90", p90));
      }
      if (room.settings.state != core::RoomState::open) announce = t.text("announce_paused");
      notify = notify_section(in, st, d);
      break;
    }
    case View::eligible: {
      title = t.text("title_eligible");
      const core::TicketState& st = ticket->state;
      if (st.status == TicketStatus::eligible && room.settings.claim_timeout_s > 0 &&
          st.admitted_at_s) {
        const std::int64_t left = *st.admitted_at_s + room.settings.claim_timeout_s - in.now_s;
        if (left > 0) {
          d.flag("has_claim_time", true);
          d.set("claim_left", t.duration(left));
        }
      }
      announce = t.text("announce_eligible");
      break;
    }
  }
  d.set("title", title);

  if (live && !in.resume_url.empty()) {
    d.flag("has_resume", true);
    d.set("resume_url", in.resume_url);
    d.set("resume_qr", in.resume_qr);
  }

  // What the page's script reads (docs/page.md: "The page's script").
  std::string attrs;
  attribute(attrs, "data-wr-room", room.name);
  if (live) attribute(attrs, "data-wr-ticket", ticket->ticket);
  attribute(attrs, "data-wr-sig", m.signature);
  attribute(attrs, "data-wr-lang", t.lang());
  attribute(attrs, "data-wr-page", self);
  attribute(attrs, "data-wr-now", std::to_string(in.now_s));
  if (ahead) {
    attribute(attrs, "data-wr-ahead", std::to_string(*ahead));
    attribute(attrs, "data-wr-start-ahead", std::to_string(in.start_ahead.value_or(*ahead)));
  }
  if (m.view == View::waiting && ticket->state.eta)
    attribute(attrs, "data-wr-eta", ticket->state.eta->configured_pace ? "configured" : "1");
  // Where a drawing's entrant stands: the script renders the page again when it changes.
  if (m.view == View::waiting && ticket->state.drawing != core::DrawStanding::none) {
    std::string standing(core::to_string(ticket->state.drawing));
    if (ticket->state.drawing == core::DrawStanding::waitlist)
      standing += ":" + std::to_string(ticket->state.waitlist_position);
    attribute(attrs, "data-wr-drawing", standing);
  }
  if (start_s && (m.view == View::join || m.view == View::waiting) && prequeue_phase)
    attribute(attrs, "data-wr-event-start", std::to_string(*start_s));
  // The notice the visitor chose: the script renders the page again when it (or how far its
  // messages have gone) changes.
  if (notify) attribute(attrs, "data-wr-notify", *notify);
  if (m.view == View::join && room.settings.abuse.pow_difficulty_bits > 0)
    attribute(attrs, "data-wr-pow", std::to_string(room.settings.abuse.pow_difficulty_bits));
  attribute(attrs, "data-wr-announce", announce);
  attribute(attrs, "data-wr-strings", script_strings(t));
  d.set("page_attributes", attrs);
  return m;
}

}  // namespace waitroom::web
