#include "api/room_page.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/cookies.hpp"
#include "api/visitor_pass.hpp"
#include "api/json_io.hpp"
#include "core/rfc3339.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using core::TicketStatus;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string minutes(std::int64_t s) {
  if (s < 60) return "under a minute";
  const std::int64_t m = (s + 59) / 60;
  return m == 1 ? "about 1 minute" : fmt::format("about {} minutes", m);
}

}  // namespace

std::string html_escape(std::string_view text) { return escape(text); }

// Server-rendered, so it works with JavaScript off: it never refreshes itself; the visitor asks
// again with the button.
std::string html_page(std::string_view room, std::string_view title, const std::string& body) {
  return fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{0} · {1}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1b1f24}}
main{{max-width:34rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}}
h1{{font-size:1.5rem;margin-top:0}} .big{{font-size:2.5rem;font-weight:700;margin:.25rem 0}}
button,.button{{font:inherit;padding:.7rem 1.4rem;border:0;border-radius:8px;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}}
button:focus-visible,.button:focus-visible{{outline:3px solid #1b1f24;outline-offset:2px}}
.muted{{color:#4a5361}}
</style></head>
<body><main><h1>{1}</h1>{2}</main></body></html>
)",
                     escape(room), escape(title), body);
}

Response html_response(const http::Request& req, Status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::beast_http::field::content_type, "text/html; charset=utf-8");
  res.set(http::beast_http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

namespace {

std::string form(std::string_view action, std::string_view return_url, std::string_view label) {
  return fmt::format(R"(<form method="post" action="{}"><input type="hidden" name="return" value="{}"><button type="submit">{}</button></form>)",
                     escape(action), escape(return_url), escape(label));
}

bool wants_json(const http::Request& req) {
  auto it = req.find(http::beast_http::field::accept);
  if (it == req.end()) return false;
  std::string_view accept = it->value();
  return accept.find("application/json") != std::string_view::npos && accept.find("text/html") == std::string_view::npos;
}

// The form body's `return` field (application/x-www-form-urlencoded), or the query's.
std::string return_param(RequestContext& ctx) {
  if (auto r = http::query_param(ctx.request.body(), "return")) return *r;
  return http::query_param(ctx.query, "return").value_or("");
}

std::string self_url(std::string_view room, std::string_view return_url) {
  std::string url = "/r/" + std::string(room);
  if (!return_url.empty()) url += "?return=" + http::percent_encode(return_url);
  return url;
}

asio::awaitable<Response> show(Services& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  const std::string ret = return_param(ctx);
  std::optional<store::TicketView> ticket;
  if (auto c = http::cookie_value(ctx.request, ticket_cookie_name(room)); !c.empty()) {
    auto t = co_await s.store.ticket(room, std::string(c));
    if (t) ticket = std::move(*t);
  }

  if (wants_json(ctx.request)) {
    json::object o = room_json(*r);
    if (ticket) o["ticket"] = json::parse(ticket_json(*ticket, true));
    Response res = json_ok(ctx.request, o);
    res.set(http::beast_http::field::cache_control, "no-store");
    if (!ticket || ticket->state.status == TicketStatus::waiting)
      res.set(http::beast_http::field::retry_after, std::to_string(core::kNotYetRetryAfterS));
    co_return res;
  }

  const std::string here = self_url(room, ret);
  std::string body;
  std::string title = "Waiting room";
  const bool closed = r->queueing == core::Queueing::reject;
  if (!ticket || ticket->state.status == TicketStatus::expired || ticket->state.status == TicketStatus::completed ||
      ticket->state.status == TicketStatus::abandoned || ticket->state.status == TicketStatus::revoked) {
    if (ticket) body += "<p>Your earlier place is no longer valid.</p>";
    if (closed) {
      title = "Closed";
      body += "<p>This waiting room is closed: no new places are being given.</p>";
    } else {
      body += "<p>Many people are trying to get in right now. Join the line and you will be let in in turn.</p>";
      body += form("/r/" + room + "/join", ret, "Join the line");
    }
  } else if (ticket->state.status == TicketStatus::waiting) {
    title = "You are in line";
    const auto& st = ticket->state;
    if (r->event && r->event->phase == "prequeue") {
      body += fmt::format("<p>The line opens at <strong>{}</strong>. Everyone who joins before then gets a place in random order.</p>",
                          escape(core::format_rfc3339(r->event->event.start_s)));
    } else if (st.ahead) {
      body += fmt::format(R"(<p class="big">{}</p><p>people ahead of you (your number is {}).</p>)", *st.ahead, st.position);
    } else {
      body += fmt::format("<p>Your number is {}. Places are drawn at random among the people waiting.</p>", st.position);
    }
    if (r->settings.state == core::RoomState::paused) body += "<p>The line is paused for the moment.</p>";
    if (st.eta)
      body += fmt::format(R"(<p class="muted">Estimated wait: {} (at most {} in 9 cases out of 10).</p>)",
                          minutes(st.eta->p50_s), minutes(st.eta->p90_s));
    body += "<p class=\"muted\">Keep this page open and check again from time to time; leaving for more than a few minutes gives up your place.</p>";
    body += fmt::format(R"(<a class="button" href="{}">Check again</a>)", escape(here));
  } else {
    title = "It's your turn";
    body += "<p>You can go in now.</p>";
    body += form("/r/" + room + "/enter", ret, "Continue");
  }
  co_return html_response(ctx.request, Status::ok, html_page(room, title, body));
}

asio::awaitable<Response> join(Services& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  std::optional<std::string> existing;
  if (auto c = http::cookie_value(ctx.request, ticket_cookie_name(room)); !c.empty()) existing = std::string(c);
  auto result = co_await s.store.enqueue(room, std::move(existing), /*tracks_presence=*/true);
  if (!result) {
    if (result.error().code == ErrorCode::not_found) co_return http::problem(ctx.request, result.error());
    co_return html_response(ctx.request, http::status_of(result.error().code),
                   html_page(room, "Sorry", "<p>" + escape(result.error().detail) + "</p>"));
  }
  Response res = http::redirect(ctx.request, Status::see_other, self_url(room, return_param(ctx)));
  if (result->created)
    res.set(http::beast_http::field::set_cookie, set_cookie(ticket_cookie_name(room), result->ticket.ticket, s.config.cookie_secure));
  co_return res;
}

asio::awaitable<Response> enter(Services& s, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  const std::string ret = return_param(ctx);
  auto c = http::cookie_value(ctx.request, ticket_cookie_name(room));
  if (c.empty()) co_return http::redirect(ctx.request, Status::see_other, self_url(room, ret));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  auto pass = co_await s.store.issue_pass(room, std::string(c), {});
  if (!pass) co_return http::redirect(ctx.request, Status::see_other, self_url(room, ret));  // not yet, or over: the page says which
  std::string to = safe_return(ret, r->settings.target_url).value_or(r->settings.target_url);
  if (to.empty()) to = self_url(room, "");
  Response res = http::redirect(ctx.request, Status::see_other, to);
  res.set(http::beast_http::field::set_cookie,
          set_pass_cookie(room, r->settings.pass_cookie, pass->pass, s.config.cookie_secure,
                          std::max<std::int64_t>(pass->expires_in_s, 1)));
  co_return res;
}

}  // namespace

void add_room_page_routes(http::Router& router, Services& s) {
  using http::Method;
  router.add(Method::get, "/r/{room}", [&s](RequestContext& ctx) { return show(s, ctx); });
  router.add(Method::post, "/r/{room}/join", [&s](RequestContext& ctx) { return join(s, ctx); });
  router.add(Method::post, "/r/{room}/enter", [&s](RequestContext& ctx) { return enter(s, ctx); });
}

}  // namespace waitroom::api
