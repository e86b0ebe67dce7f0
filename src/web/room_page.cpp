#include "web/room_page.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "http/problem.hpp"
#include "http/query.hpp"
#include "visitor/cookies.hpp"
#include "visitor/notice_request.hpp"
#include "visitor/status_json.hpp"
#include "visitor/visitor_pass.hpp"
#include "web/embedded_files.hpp"
#include "web/page_view.hpp"
#include "web/qr_svg.hpp"
#include "web/sign_in.hpp"

namespace waitroom::web {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using core::TicketStatus;
using http::RequestContext;
using http::Response;
using http::Status;
namespace field = http::beast_http;

namespace {

// What the page says when a join's access code was refused (core/room_codes.hpp).
std::string_view code_refusal(const core::Error& e) {
  if (e.code == ErrorCode::forbidden) {
    if (e.detail == core::kCodeUsedUp) return "code_used_up";
    if (e.detail == core::kCodeExpired) return "code_expired";
    if (e.detail == core::kCodeWithdrawn) return "code_withdrawn";
    return "code_invalid";
  }
  // Malformed, or its lane was taken out of the room: either way not a code that works here.
  if (e.code == ErrorCode::bad_request || e.code == ErrorCode::conflict) return "code_invalid";
  return "join_unavailable";
}

// No inline script or style anywhere: data for the script travels in data-wr-* attributes.
// form-action is left open: the enter form's answer redirects to the protected site.
constexpr std::string_view kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "
    "'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'";
// An SVG logo opened on its own must not run script in the page's origin.
constexpr std::string_view kAssetCsp = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::size_t kMaxHostBytes = 255;

bool wants_json(const http::Request& req) {
  auto it = req.find(field::field::accept);
  if (it == req.end()) return false;
  std::string_view accept = it->value();
  return accept.find("application/json") != std::string_view::npos &&
         accept.find("text/html") == std::string_view::npos;
}

// A form field (application/x-www-form-urlencoded body) or else the query's parameter.
std::string param(RequestContext& ctx, std::string_view name) {
  if (ctx.request.method() == http::Method::post) {
    if (auto r = http::query_param(ctx.request.body(), name)) return *r;
  }
  return http::query_param(ctx.query, name).value_or("");
}

// What the page says when a join was refused for its invitation (or for having none).
std::string_view invitation_refusal(RequestContext& ctx) {
  return param(ctx, "invite").empty() ? "invite_only" : "invite_refused";
}

// The language the visitor chose with ?lang= (kept in links and forms), if it is one we have.
std::string explicit_lang(const Site& site, RequestContext& ctx) {
  return std::string(site.languages().code_of(param(ctx, "lang")));
}

const Catalog& language_for(const Site& site, RequestContext& ctx, const std::string& lang_param) {
  std::optional<std::string_view> wanted;
  if (!lang_param.empty()) wanted = lang_param;
  const std::string_view accept = http::header_value(ctx.request, "Accept-Language");
  return site.languages().get(site.languages().choose(wanted, accept));
}

// The progress bar's start: "<ticket tag>.<ahead>" in waitroom-from-{room}, set when this browser
// first sees the ticket with people ahead. The tag (the id's last 8 characters) ties it to one
// ticket, so a new place starts a new bar. ('-' is not in room names' cookie prefix
// "waitroom_", so no room's cookie can collide with it.)
std::string start_cookie_name(std::string_view room) {
  return "waitroom-from-" + std::string(room);
}

std::optional<std::uint64_t> read_start(const http::Request& req, std::string_view room,
                                        std::string_view ticket) {
  const std::string_view value = http::cookie_value(req, start_cookie_name(room));
  const auto dot = value.find('.');
  if (ticket.size() < 8 || dot == std::string_view::npos ||
      value.substr(0, dot) != ticket.substr(ticket.size() - 8))
    return std::nullopt;
  std::uint64_t n = 0;
  const std::string_view digits = value.substr(dot + 1);
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

std::string start_cookie(const RoomPageDeps& s, std::string_view room, std::string_view ticket,
                         std::uint64_t ahead) {
  std::string c = start_cookie_name(room) + "=" + std::string(ticket.substr(ticket.size() - 8)) +
                  "." + std::to_string(ahead) + "; Path=/r/" + std::string(room) +
                  "; HttpOnly; SameSite=Lax";
  if (s.config.cookie_secure) c += "; Secure";
  return c;
}

void security_headers(Response& res) {
  res.set(field::field::cache_control, "no-store");
  res.set("Content-Security-Policy", kPageCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "same-origin");
}

struct RenderArgs {
  const store::RoomView* room = nullptr;
  std::optional<store::TicketView> ticket;
  std::string notice;
  Status status = Status::ok;
  // Where the visitor was going and their language, when not the request's own parameters (the
  // end of a sign-in brings them back from its state).
  std::optional<std::string> return_url;
  std::optional<std::string> lang;
};

// Renders the page for `args` in the visitor's language and theme.
Response render(const RoomPageDeps& s, const Site& site, RequestContext& ctx,
                const RenderArgs& args) {
  const std::string& room = args.room->name;
  const std::string lang = args.lang ? *args.lang : explicit_lang(site, ctx);
  const Catalog& catalog = language_for(site, ctx, lang);
  const Theme& theme = site.theme_for(room);

  PageInput in;
  in.room = args.room;
  in.ticket = args.ticket ? &*args.ticket : nullptr;
  in.now_s = s.clock.now_ms() / 1000;
  in.return_url = args.return_url ? *args.return_url : param(ctx, "return");
  in.lang_param = lang;
  in.invitation = param(ctx, "invite");
  in.notice = args.notice;
  in.css_url = site.css_url();
  in.script_url = site.script_url();
  if (theme.css) in.theme_css_url = "/r/" + room + "/theme/" + theme.css->name;
  if (theme.logo) in.logo_url = "/r/" + room + "/theme/" + theme.logo->name;
  if (s.notices) in.notice_channels = s.notices->channels();

  std::optional<std::string> set_start;
  if (args.ticket) {
    const store::TicketView& t = *args.ticket;
    in.start_ahead = read_start(ctx.request, room, t.ticket);
    if (t.state.status == TicketStatus::waiting && t.state.ahead && !in.start_ahead)
      set_start = start_cookie(s, room, t.ticket, *t.state.ahead);
    const std::string base = public_base(s, ctx.request);
    auto token = site.resume_tokens().token_for(t.ticket);
    if (!base.empty() && token) {
      in.resume_url = base + "/r/" + room + "/resume/" + *token;
      if (!in.return_url.empty()) in.resume_url += "?return=" + http::percent_encode(in.return_url);
      in.resume_qr = qr_svg(in.resume_url, catalog.text("resume_qr_label")).value_or("");
    }
  }

  const PageModel model = build_page(in, catalog, site.languages());
  Response res{args.status, ctx.request.version()};
  res.set(field::field::content_type, "text/html; charset=utf-8");
  res.set(field::field::content_language, catalog.lang());
  security_headers(res);
  if (set_start) res.set(field::field::set_cookie, *set_start);
  res.body() = theme.page->render(model.data, catalog);
  res.keep_alive(ctx.request.keep_alive());
  res.prepare_payload();
  return res;
}

asio::awaitable<Response> show(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto admitted = co_await s.abuse.admit_poll(ctx.request, ctx.remote, room);
  if (!admitted) co_return http::problem(ctx.request, admitted.error());
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  RenderArgs args;
  args.room = &*r;
  if (auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room)); !c.empty()) {
    const std::string id(c);
    auto t = co_await s.store.ticket(room, id);
    if (t) args.ticket = std::move(*t);
  }

  // Apps: the room's state with the visitor's ticket (Retry-After while waiting).
  if (wants_json(ctx.request)) {
    json::object o = visitor::room_json(*r);
    if (args.ticket) o["ticket"] = json::parse(visitor::ticket_json(*args.ticket, true));
    Response res = http::json_response(ctx.request, Status::ok, json::serialize(o));
    res.set(field::field::cache_control, "no-store");
    if (!args.ticket || args.ticket->state.status == TicketStatus::waiting)
      res.set(field::field::retry_after, std::to_string(core::kNotYetRetryAfterS));
    co_return res;
  }
  co_return render(s, site, ctx, args);
}

asio::awaitable<Response> join(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  std::optional<std::string> existing;
  if (auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room)); !c.empty())
    existing = std::string(c);
  core::Result<store::EnqueueResult> result = std::unexpected(core::Error{});
  const std::string challenge = param(ctx, "pow_challenge"), nonce = param(ctx, "pow_nonce");
  core::Result<void> admitted =
      co_await s.abuse.admit_ticket(ctx.request, ctx.remote, room, challenge, nonce);
  store::JoinOptions options;
  if (std::string typed = param(ctx, "code"); !typed.empty()) options.code = std::move(typed);
  if (std::string invite = param(ctx, "invite"); !invite.empty())
    options.invitation = std::move(invite);
  if (std::string party = param(ctx, "party_size"); !party.empty()) {
    // The page's own select sends 1..max_party_size; anything else is refused like the API's.
    std::uint64_t seats = 0;
    auto [end, ec] = std::from_chars(party.data(), party.data() + party.size(), seats);
    options.party_size = ec == std::errc{} && end == party.data() + party.size() ? seats : 0;
  }
  const bool code_given = options.code.has_value();
  const std::optional<std::string> held = existing;
  if (admitted) {
    if (options.invitation)
      options.client = co_await s.abuse.client_address(ctx.request, ctx.remote, room);
    result = co_await s.store.enqueue(room, std::move(existing), /*tracks_presence=*/true,
                                      std::move(options));
    if (!result && result.error().code == ErrorCode::full)
      s.abuse.count(room, visitor::Refusal::room_full);
  } else {
    result = std::unexpected(admitted.error());
  }
  if (!result) {
    if (result.error().code == ErrorCode::not_found)
      co_return http::problem(ctx.request, result.error());
    // Closed (409), sold out (410): the page shows that view; anything else says to try again.
    auto r = co_await s.store.room(room);
    if (!r) co_return http::problem(ctx.request, result.error());
    RenderArgs args;
    args.room = &*r;
    args.status = http::status_of(result.error().code);
    // Closed rooms (a drawing's registration too), sold-out (410) and full ones have their own
    // views; a refused proof of work asks for the script.
    const ErrorCode code = result.error().code;
    if (r->queueing != core::Queueing::reject && r->queueing != core::Queueing::draw &&
        !r->sold_out && code != ErrorCode::full) {
      const std::string lang = explicit_lang(site, ctx);
      const std::string_view key = admitted && code_given            ? code_refusal(result.error())
                                   : code == ErrorCode::unauthorized ? invitation_refusal(ctx)
                                   : code == ErrorCode::forbidden    ? "pow_nojs"
                                                                     : "join_unavailable";
      args.notice = language_for(site, ctx, lang).text(key);
    }
    Response res = render(s, site, ctx, args);
    if (result.error().retry_after_s > 0)
      res.set(field::field::retry_after, std::to_string(result.error().retry_after_s));
    co_return res;
  }
  Response res = http::redirect(ctx.request, Status::see_other,
                                page_url(room, param(ctx, "return"), explicit_lang(site, ctx)));
  // A new place, or an identity's place from another device: this browser holds it from now on.
  if (result->created || result->ticket.ticket != held)
    res.set(field::field::set_cookie,
            visitor::set_cookie(visitor::ticket_cookie_name(room), result->ticket.ticket,
                                s.config.cookie_secure));
  co_return res;
}

asio::awaitable<Response> enter(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  const std::string ret = param(ctx, "return");
  const std::string back = page_url(room, ret, explicit_lang(site, ctx));
  auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room));
  if (c.empty()) co_return http::redirect(ctx.request, Status::see_other, back);
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  const std::string ticket(c);
  store::PassOptions options;
  options.client_prefix = co_await s.abuse.client_prefix(ctx.request, ctx.remote, room);
  auto pass = co_await s.store.issue_pass(room, ticket, std::move(options));
  if (!pass)
    co_return http::redirect(ctx.request, Status::see_other,
                             back);  // not yet, or over: the page says which
  std::string to =
      visitor::safe_return(ret, r->settings.target_url).value_or(r->settings.target_url);
  if (to.empty()) to = page_url(room, "", "");
  Response res = http::redirect(ctx.request, Status::see_other, to);
  res.set(
      field::field::set_cookie,
      visitor::set_pass_cookie(room, r->settings.pass_cookie, pass->pass, s.config.cookie_secure,
                               std::max<std::int64_t>(pass->expires_in_s, 1)));
  if (auto bind = visitor::binding_cookie(s, room, r->settings.pass_cookie, pass->pass, ticket))
    res.insert(field::field::set_cookie, *bind);
  co_return res;
}

// Another device opening a resume link gets the place's ticket cookie and the page: the same
// place, never a new one. A link that is not (or no longer) a place of this room says so.
asio::awaitable<Response> resume(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  std::optional<store::TicketView> found;
  if (auto id = site.resume_tokens().ticket_for(ctx.param("token"))) {
    auto t = co_await s.store.ticket(room, *id);
    if (t) found = std::move(*t);
  }
  if (!found) {
    RenderArgs args;
    args.room = &*r;
    args.status = Status::not_found;
    args.notice = language_for(site, ctx, explicit_lang(site, ctx)).text("resume_invalid");
    co_return render(s, site, ctx, args);
  }
  Response res = http::redirect(ctx.request, Status::found,
                                page_url(room, param(ctx, "return"), explicit_lang(site, ctx)));
  res.set(field::field::set_cookie, visitor::set_cookie(visitor::ticket_cookie_name(room),
                                                        found->ticket, s.config.cookie_secure));
  res.set("Referrer-Policy", "no-referrer");
  co_return res;
}

// Leave and come back without JavaScript (room.js sends the same to the JSON API): the "Notify
// me" form's e-mail address, or its "Stop notifying me" (cancel=1), for the place in this
// browser's ticket cookie. Done: 303 back to the page, which shows the notice's state. Refused:
// the page with a notice saying why, answered with the refusal's status. The address goes
// nowhere but the sealed notice: it is neither logged nor shown back.
asio::awaitable<Response> notify(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  const std::string ret = param(ctx, "return");
  const std::string lang = explicit_lang(site, ctx);
  auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room));
  if (c.empty())
    co_return http::redirect(ctx.request, Status::see_other, page_url(room, ret, lang));
  auto admitted = co_await s.abuse.admit_poll(ctx.request, ctx.remote, room);
  if (!admitted) co_return http::problem(ctx.request, admitted.error());
  const std::string ticket(c);
  core::Result<store::TicketView> done = std::unexpected(core::Error{});
  std::string refusal = "notify_unavailable";
  if (param(ctx, "cancel") == "1") {
    done = co_await s.store.cancel_notice(room, ticket);
  } else if (!s.notices) {
    done = core::fail(ErrorCode::conflict, "this server sends no notifications");
  } else {
    // The notice's language: the page's, whether chosen with ?lang= or from Accept-Language.
    const std::string notice_lang(language_for(site, ctx, lang).lang());
    auto request = visitor::email_notice_request(param(ctx, "email"), notice_lang, *s.notices);
    if (request) {
      done = co_await s.store.set_notice(room, ticket, std::move(*request));
    } else {
      if (request.error().code == ErrorCode::bad_request) refusal = "notify_invalid_email";
      done = std::unexpected(request.error());
    }
  }
  if (done) co_return http::redirect(ctx.request, Status::see_other, page_url(room, ret, lang));
  co_return co_await page_with_notice(s, site, ctx, room, refusal,
                                      http::status_of(done.error().code), ret, lang);
}

// The service worker that shows push notices (assets/push-sw.js), compiled in like the page's
// other files; nullptr if it is not (a build error the browser tests catch).
const StaticFile* service_worker_file() {
  static const std::optional<StaticFile> file = []() -> std::optional<StaticFile> {
    const EmbeddedFile* f = embedded_file("push-sw.js");
    if (!f) return std::nullopt;
    return StaticFile{"push-sw.js", "application/javascript", std::string(f->data),
                      "\"" + short_hash(f->data) + "\""};
  }();
  return file ? &*file : nullptr;
}

// GET /waitroom-sw.js: at the root, so that the worker's scope may be "/" and cover every room's
// page (Service-Worker-Allowed says so too). Not under a hashed name: browsers look for a new
// version at the URL they registered, so it is revalidated each time (no-cache, its ETag).
asio::awaitable<Response> service_worker(RequestContext& ctx) {
  const StaticFile* f = service_worker_file();
  if (!f) co_return http::problem(ctx.request, Status::not_found, "no service worker");
  Response res{Status::ok, ctx.request.version()};
  res.set(field::field::etag, f->etag);
  res.set(field::field::cache_control, "no-cache");
  res.set("Service-Worker-Allowed", "/");
  res.set("X-Content-Type-Options", "nosniff");
  const std::string_view inm = http::header_value(ctx.request, "If-None-Match");
  if (!inm.empty() && inm.find(f->etag) != std::string_view::npos) {
    res.result(Status::not_modified);
  } else {
    res.set(field::field::content_type, f->content_type);
    res.body() = f->data;
  }
  res.keep_alive(ctx.request.keep_alive());
  res.prepare_payload();
  co_return res;
}

asio::awaitable<Response> home(const RoomPageDeps& s, RequestContext& ctx) {
  std::string to = "/r/" + s.config.default_room;
  if (!ctx.query.empty()) to += "?" + std::string(ctx.query);
  co_return http::redirect(ctx.request, Status::found, to);
}

Response static_answer(const http::Request& req, const StaticFile& f) {
  Response res{Status::ok, req.version()};
  res.set(field::field::etag, f.etag);
  res.set(field::field::cache_control, kImmutable);
  res.set("X-Content-Type-Options", "nosniff");
  const std::string_view inm = http::header_value(req, "If-None-Match");
  if (!inm.empty() && (inm.find(f.etag) != std::string_view::npos || inm == "*")) {
    res.result(Status::not_modified);
  } else {
    res.set(field::field::content_type, f.content_type);
    if (f.content_type.starts_with("image/svg")) res.set("Content-Security-Policy", kAssetCsp);
    res.body() = f.data;
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

asio::awaitable<Response> asset(const Site& site, RequestContext& ctx) {
  const StaticFile* f = site.asset(ctx.param("file"));
  if (!f) co_return http::problem(ctx.request, Status::not_found, "no such file");
  co_return static_answer(ctx.request, *f);
}

asio::awaitable<Response> theme_file(const RoomPageDeps& s, const Site& site, RequestContext& ctx) {
  const std::string room(ctx.param("room"));
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  const StaticFile* f = site.theme_for(room).file(ctx.param("file"));
  if (!f)
    co_return http::problem(ctx.request, Status::not_found, "no such file in this room's theme");
  co_return static_answer(ctx.request, *f);
}

}  // namespace

asio::awaitable<Response> page_with_notice(const RoomPageDeps& s, const Site& site,
                                           RequestContext& ctx, std::string room,
                                           std::string notice_key, Status status,
                                           std::string return_url, std::string lang) {
  auto r = co_await s.store.room(room);
  if (!r) co_return http::problem(ctx.request, r.error());
  RenderArgs args;
  args.room = &*r;
  args.status = status;
  args.return_url = std::move(return_url);
  args.lang = std::move(lang);
  if (auto c = http::cookie_value(ctx.request, visitor::ticket_cookie_name(room)); !c.empty()) {
    const std::string id(c);
    auto t = co_await s.store.ticket(room, id);
    if (t) args.ticket = std::move(*t);
  }
  args.notice = language_for(site, ctx, *args.lang).text(notice_key);
  co_return render(s, site, ctx, args);
}

std::string public_base(const RoomPageDeps& s, const http::Request& req) {
  if (!s.config.public_url.empty()) return s.config.public_url;
  const std::string_view host = http::header_value(req, "Host");
  if (host.empty() || host.size() > kMaxHostBytes) return {};
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return {};
  }
  return "http://" + std::string(host);
}

void add_room_page_routes(http::Router& router, const RoomPageDeps& s, const Site& site) {
  using http::Method;
  // Before /r/{room}/...: "_assets" is not a room name (names do not start with '_').
  router.add(Method::get, "/r/_assets/{file}",
             [&site](RequestContext& ctx) { return asset(site, ctx); });
  // Only with default_room: "/" is otherwise left to the built-in proxy's site (like /demo/shop,
  // it is not in `waitroom routes` and docs/openapi.yaml, which list what every server answers).
  if (!s.config.default_room.empty())
    router.add(Method::get, "/", [&s](RequestContext& ctx) { return home(s, ctx); });
  router.add(Method::get, "/r/{room}",
             [&s, &site](RequestContext& ctx) { return show(s, site, ctx); });
  router.add(Method::post, "/r/{room}/join",
             [&s, &site](RequestContext& ctx) { return join(s, site, ctx); });
  router.add(Method::post, "/r/{room}/enter",
             [&s, &site](RequestContext& ctx) { return enter(s, site, ctx); });
  router.add(Method::get, "/r/{room}/resume/{token}",
             [&s, &site](RequestContext& ctx) { return resume(s, site, ctx); });
  router.add(Method::post, "/r/{room}/notify",
             [&s, &site](RequestContext& ctx) { return notify(s, site, ctx); });
  router.add(Method::get, "/waitroom-sw.js",
             [](RequestContext& ctx) { return service_worker(ctx); });
  router.add(Method::get, "/r/{room}/theme/{file}",
             [&s, &site](RequestContext& ctx) { return theme_file(s, site, ctx); });
  add_sign_in_routes(router, s, site);
}

}  // namespace waitroom::web
