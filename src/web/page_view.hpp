#pragma once
// What the waiting-room page shows, decided from the room and the visitor's ticket: which view
// (join, closed, sold_out, full, waiting, eligible), and every template variable (docs/page.md
// lists them). Pure: no I/O, the time is given, so every state is unit-tested without a server.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"
#include "web/i18n.hpp"
#include "web/template.hpp"

namespace waitroom::web {

enum class View { join, closed, sold_out, full, waiting, eligible };
std::string_view to_string(View view);

struct PageInput {
  const store::RoomView* room = nullptr;      // required
  const store::TicketView* ticket = nullptr;  // the visitor's ticket (any status), if any
  std::int64_t now_s = 0;
  // The people ahead when this browser first saw the ticket (the progress bar's start); unset:
  // the ticket's current `ahead` (the bar starts empty).
  std::optional<std::uint64_t> start_ahead;
  std::string return_url;  // the `return` parameter as received (kept in links and forms)
  std::string lang_param;  // ?lang= as chosen explicitly; empty when from Accept-Language
  std::string invitation;  // ?invite= as received: the join form sends it on
  std::string resume_url;  // absolute link to this place for another device; empty: none
  std::string resume_qr;   // its QR code (inline SVG); empty: none
  std::string notice;      // an extra message at the top (e.g. an invalid resume link)
  std::string css_url;
  std::string script_url;
  std::string theme_css_url;  // empty: the theme has no CSS of its own
  std::string logo_url;       // empty: no logo
  // What this server notifies waiting visitors by (visitor::NoticeSetup::channels(): "push",
  // "email", "webhook"); empty: no notifications. The waiting view offers "Notify me" when the
  // room's away_max_s is above 0 and push or e-mail is among them.
  std::vector<std::string> notice_channels;
};

struct PageModel {
  View view = View::join;
  // view|room status|queueing: the page's script swaps in a fresh rendering when this changes.
  std::string signature;
  TemplateData data;
};

// Every variable the page template may use, with its kind.
const TemplateSchema& page_schema();
PageModel build_page(const PageInput& in, const Catalog& catalog, const Languages& languages);

// "/r/{room}" with `return` and `lang` when not empty.
std::string page_url(std::string_view room, std::string_view return_url, std::string_view lang);
// The room's status as the public room JSON writes it: open, paused, queue_all, prequeue, sold_out.
std::string room_status(const store::RoomView& room);
// The progress since the visitor first saw the ticket, 0-100: the share of the people who were
// ahead then who have gone in since.
int progress_percent(std::uint64_t start_ahead, std::uint64_t ahead);

}  // namespace waitroom::web
