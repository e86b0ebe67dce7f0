#include "web/dashboard/dashboard.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/admin_access.hpp"
#include "api/auth_log.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"
#include "ops/log.hpp"
#include "web/dashboard/admin_sessions.hpp"
#include "web/dashboard/assets.hpp"
#include "web/dashboard/dashboard_view.hpp"
#include "web/dashboard/same_origin.hpp"
#include "web/dashboard/sign_in_throttle.hpp"

namespace waitroom::web::dashboard {

namespace asio = boost::asio;
namespace beast_http = http::beast_http;
using http::Method;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

// A wrong key costs its sender this long before the answer, on top of the throttle.
constexpr std::int64_t kFailedSignInDelayMs = 250;
// The page polls /admin/v1 this often (ms); faster when the history is sampled faster (tests).
constexpr std::int64_t kMaxRefreshMs = 5'000;
constexpr std::int64_t kMinRefreshMs = 1'000;
constexpr std::size_t kMaxKeyFieldBytes = 4096;

// No inline script or style anywhere: the page's script and stylesheet are its own files.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::string key(std::string_view name) { return std::string(kKeyPrefix) + std::string(name); }

// The operator's language for this request, as the visitor page chooses it: `lang` (a form
// field of the sign-in and sign-out forms, else the query's ?lang=), then Accept-Language.
struct Language {
  std::string_view param;  // the supported code asked for explicitly, or ""
  const Catalog* catalog;
};

Language language_of(const Languages& languages, const RequestContext& ctx) {
  std::optional<std::string> asked;
  if (ctx.request.method() == Method::post) asked = http::query_param(ctx.request.body(), "lang");
  if (!asked) asked = http::query_param(ctx.query, "lang");
  const std::string_view param = languages.code_of(asked.value_or(""));
  std::optional<std::string_view> wanted;
  if (!param.empty()) wanted = param;
  return {param, &languages.get(
                     languages.choose(wanted, http::header_value(ctx.request, "Accept-Language")))};
}

void security_headers(Response& res) {
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "same-origin");
}

Response html(const http::Request& req, Status status, std::string_view lang, std::string body) {
  Response res{status, req.version()};
  res.set(beast_http::field::content_type, "text/html; charset=utf-8");
  res.set(beast_http::field::content_language, lang);
  res.set(beast_http::field::cache_control, "no-store");
  security_headers(res);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

class Dashboard final : public api::AdminSessionCheck {
 public:
  Dashboard(const DashboardDeps& s, DashboardPages pages)
      : s_(s),
        pages_(std::move(pages)),
        sessions_(
            SessionLimits{s.config.dashboard.session_idle_timeout_s,
                          s.config.dashboard.session_lifetime_s, s.config.dashboard.max_sessions},
            s.clock),
        throttle_(s.clock) {}

  // /admin/v1 with the session cookie: reads need the session, changes also its CSRF token
  // from a page of this origin.
  api::SessionAccess check(const http::Request& req) override {
    using Verdict = api::SessionAccess::Verdict;
    Session session = session_of(req);
    if (session.ended) return {Verdict::ended, session.ended_because, {}};
    if (!session.live) return {};
    const std::string* csrf = &session.live->csrf_token;
    if (req.method() == Method::get || req.method() == Method::head)
      return {Verdict::allowed, {}, std::move(session.live->caller)};
    if (auto reason = cross_origin(req)) return {Verdict::forbidden, *reason, {}};
    const std::string_view sent = http::header_value(req, "X-CSRF-Token");
    if (sent.empty())
      return {Verdict::forbidden,
              "a change through the dashboard session needs its X-CSRF-Token header",
              {}};
    if (!secrets_equal(sent, *csrf))
      return {Verdict::forbidden, "the X-CSRF-Token header is wrong for this session", {}};
    return {Verdict::allowed, {}, std::move(session.live->caller)};
  }

  asio::awaitable<Response> page(RequestContext& ctx) {
    const Language lang = language_of(pages_.languages(), ctx);
    const Catalog& t = *lang.catalog;
    if (s_.config.admin_key.empty())
      co_return sign_in_page(ctx.request, Status::ok, lang, t.text(key("signin_off")));
    const bool had_cookie = !http::cookie_value(ctx.request, kSessionCookie).empty();
    Session session = session_of(ctx.request);
    if (!session.live) {
      // A token revoked or expired says so; any other ended session the usual way.
      Response res = sign_in_page(ctx.request, Status::ok, lang,
                                  session.ended ? t.text(key("access.token_ended"))
                                  : had_cookie  ? t.text(key("signin_session_ended"))
                                                : "");
      if (had_cookie) res.set(beast_http::field::set_cookie, clear_cookie());
      co_return res;
    }
    const std::int64_t refresh_ms = std::clamp<std::int64_t>(
        s_.config.dashboard.history_interval_ms, kMinRefreshMs, kMaxRefreshMs);
    co_return html(ctx.request, Status::ok, t.lang(),
                   pages_.dashboard(t, DashboardView{lang.param, session.live->csrf_token,
                                                     refresh_ms, session.live->caller}));
  }

  asio::awaitable<Response> sign_in(RequestContext& ctx) {
    const http::Request& req = ctx.request;
    const Language lang = language_of(pages_.languages(), ctx);
    const Catalog& t = *lang.catalog;
    if (s_.config.admin_key.empty())
      co_return sign_in_page(req, Status::forbidden, lang, t.text(key("signin_off")));
    if (cross_origin(req)) {
      api::log_auth_failure("dashboard_sign_in", req, ctx.remote, "cross-origin sign-in");
      co_return sign_in_page(req, Status::forbidden, lang, t.text(key("signin_cross_origin")));
    }
    const std::string address = ctx.remote.to_string();
    if (const std::int64_t wait_s = throttle_.retry_after_s(address); wait_s > 0) {
      api::log_auth_failure("dashboard_sign_in", req, ctx.remote,
                            "throttled after repeated failures");
      std::string message(t.plural(key("signin_throttled"), static_cast<std::uint64_t>(wait_s)));
      if (auto at = message.find("{seconds}"); at != std::string::npos)
        message.replace(at, 9, t.number(static_cast<std::uint64_t>(wait_s)));
      Response res = sign_in_page(req, Status::too_many_requests, lang, message);
      res.set(beast_http::field::retry_after, std::to_string(wait_s));
      co_return res;
    }
    std::optional<std::string> sent_key;
    if (req.body().size() <= kMaxKeyFieldBytes) sent_key = http::query_param(req.body(), "key");
    // The field holds the admin key or an operator token (wrt_…); neither is ever logged.
    const bool token = sent_key && sent_key->starts_with("wrt_");
    std::string why;
    std::optional<api::SessionCaller> caller;
    if (token) {
      if (auto c = api::operator_token_caller(s_.tokens, s_.clock.now_s(), *sent_key, why))
        caller = api::SessionCaller{c->role, std::move(c->rooms), std::move(c->name),
                                    std::move(c->token_id)};
      else if (why.empty())
        why = "unknown operator token";
    } else if (sent_key && secrets_equal(*sent_key, s_.config.admin_key)) {
      caller = api::SessionCaller{store::OperatorRole::admin, {}, "admin key", {}};
    } else {
      why = sent_key && !sent_key->empty() ? "wrong admin key" : "no admin key";
    }
    if (!caller) {
      api::log_auth_failure("dashboard_sign_in", req, ctx.remote, why);
      throttle_.record_failure(address);
      auto executor = co_await asio::this_coro::executor;
      asio::steady_timer delay(executor, std::chrono::milliseconds(kFailedSignInDelayMs));
      co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
      co_return sign_in_page(req, Status::unauthorized, lang,
                             t.text(key(token ? "access.signin_wrong_token"
                                        : sent_key && !sent_key->empty() ? "signin_wrong_key"
                                                                         : "signin_no_key")));
    }
    throttle_.record_success(address);
    // A new id at every sign-in: a cookie planted before cannot become a signed-in session.
    if (auto old = http::cookie_value(req, kSessionCookie); !old.empty()) sessions_.remove(old);
    const NewSession session = sessions_.create(std::move(*caller));
    Response res = http::redirect(req, Status::see_other, admin_url(lang.param));
    res.set(beast_http::field::set_cookie, session_cookie(session.id));
    security_headers(res);
    co_return res;
  }

  asio::awaitable<Response> sign_out(RequestContext& ctx) {
    const http::Request& req = ctx.request;
    const Language lang = language_of(pages_.languages(), ctx);
    const std::string_view id = http::cookie_value(req, kSessionCookie);
    if (Session session = session_of(req); session.live) {
      const std::string* csrf = &session.live->csrf_token;
      if (cross_origin(req))
        co_return sign_in_page(req, Status::forbidden, lang,
                               lang.catalog->text(key("signin_cross_origin")));
      auto sent = http::query_param(req.body(), "csrf");
      if (!sent || !secrets_equal(*sent, *csrf))
        co_return sign_in_page(req, Status::forbidden, lang,
                               lang.catalog->text(key("signout_refused")));
      sessions_.remove(id);
    }
    Response res = http::redirect(req, Status::see_other, admin_url(lang.param));
    res.set(beast_http::field::set_cookie, clear_cookie());
    security_headers(res);
    co_return res;
  }

  asio::awaitable<Response> asset(RequestContext& ctx, std::string_view name) {
    const Asset* a = find_asset(name);
    if (!a) co_return http::problem(ctx.request, Status::not_found, "no such asset");
    const std::string etag = "\"" + std::string(a->sha256.substr(0, 32)) + "\"";
    const bool fresh = http::header_value(ctx.request, "If-None-Match") == etag;
    Response res{fresh ? Status::not_modified : Status::ok, ctx.request.version()};
    res.set(beast_http::field::content_type, content_type_of(name));
    // Revalidated on every load: a new binary's assets show at once, unchanged ones cost a 304.
    res.set(beast_http::field::cache_control, "no-cache");
    res.set(beast_http::field::etag, etag);
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(ctx.request.keep_alive());
    if (!fresh) res.body() = std::string(a->content);
    res.prepare_payload();
    co_return res;
  }

 private:
  // The request's session: live, ended just now (its token is no longer live), or none.
  struct Session {
    std::optional<LiveSession> live;
    bool ended = false;
    std::string ended_because;  // for the log and the problem's detail
  };

  // A session signed in with a token checks the token again at every use: revoked, expired or
  // gone, the session ends at once (the token's role and rooms are read afresh, too).
  Session session_of(const http::Request& req) {
    const std::string_view id = http::cookie_value(req, kSessionCookie);
    if (id.empty()) return {};
    Session s{sessions_.find(id), false, {}};
    if (!s.live || s.live->caller.token_id.empty()) return s;
    std::string why;
    auto token = api::live_token_caller(s_.tokens, s_.clock.now_s(), s.live->caller.token_id, why);
    if (!token) {
      sessions_.remove(id);
      return {std::nullopt, true, why};
    }
    s.live->caller.role = token->role;
    s.live->caller.rooms = std::move(token->rooms);
    s.live->caller.name = std::move(token->name);
    return s;
  }

  std::optional<std::string> cross_origin(const http::Request& req) const {
    return cross_origin_reason(
        OriginHeaders{http::header_value(req, "Sec-Fetch-Site"), http::header_value(req, "Origin"),
                      http::header_value(req, "Host"), s_.config.public_url});
  }

  std::string cookie_attributes() const {
    return std::string("; Path=/admin; HttpOnly; SameSite=Strict") +
           (s_.config.cookie_secure ? "; Secure" : "");
  }
  std::string session_cookie(std::string_view id) const {
    return std::string(kSessionCookie) + "=" + std::string(id) + cookie_attributes();
  }
  std::string clear_cookie() const {
    return std::string(kSessionCookie) + "=" + cookie_attributes() + "; Max-Age=0";
  }

  Response sign_in_page(const http::Request& req, Status status, const Language& lang,
                        std::string_view error) const {
    return html(req, status, lang.catalog->lang(),
                pages_.sign_in(*lang.catalog,
                               SignInView{lang.param, std::string(error),
                                          !error.empty() && status == Status::unauthorized}));
  }

  const DashboardDeps& s_;
  DashboardPages pages_;
  AdminSessions sessions_;
  SignInThrottle throttle_;
};

}  // namespace

api::AdminSessionCheck* add_dashboard_routes(http::Router& router, const DashboardDeps& deps,
                                             const Languages& languages) {
  auto pages = DashboardPages::create(languages);
  if (!pages) {
    // A broken built-in template is a build defect (the unit tests load them): say so, and leave
    // /admin unrouted rather than serve a half page. The admin API is not affected.
    ops::log_error(pages.error().detail + " (the dashboard at /admin is off)");
    return nullptr;
  }
  auto d = std::make_shared<Dashboard>(deps, std::move(*pages));
  router.add(Method::get, "/admin", [d](RequestContext& c) { return d->page(c); });
  router.add(Method::post, "/admin/session", [d](RequestContext& c) { return d->sign_in(c); });
  router.add(Method::post, "/admin/session/delete",
             [d](RequestContext& c) { return d->sign_out(c); });
  for (std::string_view name : {"dashboard.css", "dashboard.js"})
    router.add(Method::get, "/admin/assets/" + std::string(name),
               [d, name](RequestContext& c) { return d->asset(c, name); });
  return d.get();
}

}  // namespace waitroom::web::dashboard
