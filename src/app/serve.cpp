#include "app/serve.hpp"

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "api/admin_api.hpp"
#include "api/aws_api.hpp"
#include "api/aws_private_api.hpp"
#include "api/demo_page.hpp"
#include "api/event_streams.hpp"
#include "api/ops_api.hpp"
#include "api/public_api.hpp"
#include "app/config_reload.hpp"
#include "config/server_config.hpp"
#include "gate/forward_auth.hpp"
#include "gate/oidc_provider.hpp"
#include "gate/reverse_proxy.hpp"
#include "http/server.hpp"
#include "http/tls_context.hpp"
#include "notify/email_sender.hpp"
#include "notify/notifier.hpp"
#include "notify/push_sender.hpp"
#include "ops/event_feed.hpp"
#include "ops/log.hpp"
#include "ops/webhook_sink.hpp"
#include "store/audit_trail.hpp"
#include "store/embedded/embedded_store.hpp"
#include "store/feed_cursor_files.hpp"
#include "store/history_file_archive.hpp"
#include "store/history_sampler.hpp"
#include "store/invitation_jwks.hpp"
#include "store/operator_tokens.hpp"
#include "store/redis/redis_audit_trail.hpp"
#include "store/redis/redis_feed_cursors.hpp"
#include "store/redis/redis_history_archive.hpp"
#include "store/redis/redis_operator_tokens.hpp"
#include "store/redis/redis_store.hpp"
#include "store/redis/shared_secrets.hpp"
#include "store/sign_in_providers.hpp"
#include "token/jwt_pass_minter.hpp"
#include "token/key_ring.hpp"
#include "token/sealed_box.hpp"
#include "token/secret.hpp"
#include "token/ticket_id.hpp"
#include "token/web_push.hpp"
#include "visitor/abuse_guard.hpp"
#include "visitor/visitor_deps.hpp"
#include "web/dashboard/dashboard.hpp"
#include "web/notice_wording.hpp"
#include "web/room_page.hpp"
#include "web/site.hpp"

namespace waitroom::app {

namespace asio = boost::asio;

namespace {

int fail_with(const core::Error& e) {
  ops::log_error(e.detail);
  return 1;
}

boost::json::object certificate_fields(const http::CertificateInfo& cert) {
  return {{"subject", cert.subject}, {"serial", cert.serial}, {"not_after", cert.not_after}};
}

// [tls]: the certificate is read before anything else starts, so a wrong file stops the start.
core::Result<std::shared_ptr<http::CurrentTlsContext>> open_tls(const config::TlsConfig& tls) {
  if (!tls.enabled()) return nullptr;
  auto current = http::CurrentTlsContext::open(tls.cert_file, tls.key_file);
  if (!current) return std::unexpected(current.error());
  const http::CertificateInfo& cert = (*current)->get()->certificate();
  ops::log_info("tls certificate loaded", certificate_fields(cert));
  if (cert.expired) ops::log_warn("tls certificate has expired", certificate_fields(cert));
  return current;
}

// SIGHUP: a renewed certificate (certbot's deploy hook) for new connections; open ones keep
// theirs. A bad file keeps the certificate in use, and says so.
void reload_tls(http::CurrentTlsContext& tls) {
  auto cert = tls.reload();
  if (!cert) {
    const http::CertificateInfo& kept = tls.get()->certificate();
    ops::log_error("tls certificate reload failed", {{"error", cert.error().detail},
                                                     {"still_serving_subject", kept.subject},
                                                     {"still_serving_serial", kept.serial}});
    return;
  }
  ops::log_info("tls certificate reloaded", certificate_fields(*cert));
  if (cert->expired) ops::log_warn("tls certificate has expired", certificate_fields(*cert));
}

// Runs one store coroutine to completion on a private io_context (start-up work only).
template <class T>
core::Result<T> run_now(asio::awaitable<core::Result<T>> op) {
  asio::io_context ctx;
  std::optional<core::Result<T>> out;
  asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, core::Result<T> r) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(r));
  });
  ctx.run();
  return std::move(*out);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// Everything a running server owns, built in dependency order from the data dir.
struct Runtime {
  core::SystemClock system_clock;
  std::optional<core::ManualClock> manual_clock;  // [testing] manual_clock
  const core::Clock* clock_ptr = &system_clock;
  const core::Clock& clock() const { return *clock_ptr; }
  std::optional<token::TicketIdCodec> ids;
  std::unique_ptr<web::Site> site;  // the waiting-room page (resume tokens use the secret too)
  std::unique_ptr<token::KeyRing> keys;
  std::optional<token::JwtPassMinter> minter;
  // The rooms' events (docs/events.md), when a webhook or keep_events asks for them; filled by the
  // store from its log as it opens. Declared before the store, which outlives neither it nor the
  // sinks (declared after it, so they stop first).
  std::unique_ptr<ops::EventFeed> feed;
  std::unique_ptr<ops::FeedCursors> feed_cursors;  // where the webhooks keep their place
  std::unique_ptr<store::OperatorTokens> tokens;   // the admin API's operator tokens
  std::unique_ptr<store::AuditTrail> audit;        // who changed what
  // The keys of rooms' invitations.jwks_url, for the store (declared before it: it outlives it).
  std::unique_ptr<store::InvitationJwks> invitation_jwks;
  // The rooms' identity providers (sign-in), using the same JWKS cache.
  std::unique_ptr<store::SignInProviders> sign_in;
  std::unique_ptr<store::Store> store;
  store::EmbeddedStore* embedded = nullptr;         // the same store, when it is the embedded one
  std::optional<store::redis::RedisOptions> redis;  // store = "redis": how to reach it
  std::string abuse_secret;  // the data dir's secret: proof-of-work challenges, pass binding
  std::vector<std::shared_ptr<ops::WebhookSink>> webhooks;
  // Leave and come back (docs/notifications.md): visitors' contacts sealed under a key from the
  // secret, Web Push's VAPID keys ([push]), what visitors may choose, and the sender of what
  // rooms have due (started once serving, stopped before the store).
  std::unique_ptr<token::SealedBox> contacts;
  std::unique_ptr<token::KeyRing> push_keys;
  std::optional<visitor::NoticeSetup> notices;
  std::unique_ptr<notify::Notifier> notifier;

  core::Result<void> open(const config::ServerConfig& cfg) {
    if (cfg.manual_clock) {
      manual_clock.emplace(system_clock.now_ms());
      clock_ptr = &*manual_clock;
    }
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec)
      return core::fail(core::ErrorCode::internal,
                        "cannot create data dir " + cfg.data_dir.string());
    std::filesystem::permissions(cfg.data_dir, std::filesystem::perms::owner_all, ec);
    if (cfg.store == config::StoreKind::redis) {
      auto url = store::redis::parse_redis_url(cfg.redis.url);
      if (!url) return core::fail(core::ErrorCode::bad_request, "redis_url: " + url.error().detail);
      redis.emplace();
      redis->url = std::move(*url);
      redis->tls_ca_file = cfg.redis.tls_ca_file.string();
      redis->cluster = cfg.redis.cluster || redis->url.seeds.size() > 1;
      redis->wait_replicas = cfg.redis.wait_replicas;
      if (redis->cluster && redis->url.db != 0)
        return core::fail(core::ErrorCode::bad_request,
                          "redis_url: a Redis Cluster has only database 0 (write /0 or nothing)");
      // Every node signs and checks with the same secret and keys (docs/scaling.md).
      auto shared = store::redis::share_secrets(
          *redis, store::redis::RedisKeys(cfg.redis.key_prefix), cfg.data_dir, clock());
      if (!shared) return std::unexpected(shared.error());
      ops::log_info(*shared ? "took the deployment's shared secret and keys from Redis"
                            : "this node's secret and keys are the deployment's",
                    {{"redis", store::redis::redacted(redis->url)}});
    }
    auto secret = token::load_or_create_secret(cfg.data_dir / "secret");
    if (!secret) return std::unexpected(secret.error());
    auto page = web::Site::create(cfg, *secret);
    if (!page) return std::unexpected(page.error());
    site = std::move(*page);
    abuse_secret = *secret;
    contacts = std::make_unique<token::SealedBox>(*secret, "waitroom notice contact v1");
    ids.emplace(std::move(*secret));
    if (cfg.push) {
      auto vapid = token::KeyRing::open(cfg.data_dir / "vapid", clock(), token::kVapidAlgorithms);
      if (!vapid) return std::unexpected(vapid.error());
      push_keys = std::move(*vapid);
    }
    notices.emplace(visitor::NoticeSetup{
        *contacts, push_keys.get(), cfg.push ? cfg.push->allowed_hosts : std::vector<std::string>{},
        cfg.smtp.has_value(), !cfg.webhooks.empty()});
    auto ring = token::KeyRing::open(cfg.data_dir / "keys", clock());
    if (!ring) return std::unexpected(ring.error());
    keys = std::move(*ring);
    minter.emplace(*keys);
    if (!cfg.webhooks.empty() || cfg.keep_events)
      feed = std::make_unique<ops::EventFeed>(cfg.webhook_max_lag_mb << 20);
    if (redis) {
      auto st = store::redis::open_redis_store(*redis, cfg.redis.key_prefix, clock(), *ids, *minter,
                                               cfg.compact_after_mb << 20, feed.get());
      if (!st) return std::unexpected(st.error());
      store = std::move(*st);
    } else {
      auto st =
          store::EmbeddedStore::open(cfg.data_dir, cfg.durability == config::Durability::fsync,
                                     clock(), *ids, *minter, feed.get());
      if (!st) return std::unexpected(st.error());
      embedded = st->get();
      embedded->set_log_write_delay(std::chrono::milliseconds(cfg.log_write_delay_ms));
      store = std::move(*st);
    }
    invitation_jwks = std::make_unique<store::InvitationJwks>(clock());
    store->set_invitation_jwks(invitation_jwks.get());
    sign_in = std::make_unique<store::SignInProviders>(clock(), *invitation_jwks);
    if (redis) {
      feed_cursors = std::make_unique<store::redis::RedisFeedCursors>(
          *redis, store::redis::RedisKeys(cfg.redis.key_prefix));
      tokens = std::make_unique<store::redis::RedisOperatorTokens>(
          *redis, store::redis::RedisKeys(cfg.redis.key_prefix));
      audit = std::make_unique<store::redis::RedisAuditTrail>(
          *redis, store::redis::RedisKeys(cfg.redis.key_prefix));
    } else {
      feed_cursors = std::make_unique<store::FeedCursorFiles>(cfg.data_dir / "webhooks");
      auto file = store::OperatorTokenFile::open(cfg.data_dir / "tokens.json");
      if (!file) return std::unexpected(file.error());
      tokens = std::move(*file);
      auto trail = store::AuditFile::open(cfg.data_dir / "audit.log");
      if (!trail) return std::unexpected(trail.error());
      audit = std::move(*trail);
    }
    for (std::size_t i = 0; i < cfg.webhooks.size(); ++i) {
      std::size_t same_url_before = 0;
      for (std::size_t j = 0; j < i; ++j)
        same_url_before += cfg.webhooks[j].url == cfg.webhooks[i].url ? 1 : 0;
      auto sink = ops::WebhookSink::create(cfg.webhooks[i], *feed, *feed_cursors, same_url_before);
      if (!sink) return std::unexpected(sink.error());
      webhooks.push_back(std::move(*sink));
    }
    if (embedded) embedded->start(cfg.compact_after_mb << 20);
    // The file's rooms, as on SIGHUP (app/config_reload.hpp); a room it cannot apply stops the
    // start, before any visitor sees a room that is not what the file says.
    const ReloadReport applied = apply_config_rooms(
        *store, nullptr, cfg, [](auto op) { return run_now(std::move(op)); }, audit.get());
    if (!applied.rooms_failed.empty())
      return std::unexpected(core::Error{
          core::ErrorCode::bad_request, "rooms." + applied.rooms_failed.front() +
                                            ": the file's settings could not be applied (logged)"});
    if (!applied.rooms_created.empty() || !applied.rooms_updated.empty())
      ops::log_info("config rooms applied", {{"rooms_created", join(applied.rooms_created)},
                                             {"rooms_updated", join(applied.rooms_updated)}});
    return {};
  }
};

// Leave and come back: the sender of what rooms have due, by the channels the config sets up.
// Webhook notices need none: their events are the message.
void start_notifier(Runtime& rt, const config::ServerConfig& cfg) {
  std::unique_ptr<notify::Sender> push, email;
  if (cfg.push) {
    notify::PushOptions options;
    options.subject = cfg.push->subject;
    options.timeout = std::chrono::milliseconds(cfg.push->timeout_ms);
    options.ca_file = cfg.push->ca_file.string();
    options.allowed_hosts = cfg.push->allowed_hosts;
    push = std::make_unique<notify::PushSender>(*rt.push_keys, options, rt.clock());
  }
  if (cfg.smtp) {
    const config::SmtpConfig& m = *cfg.smtp;
    net::SmtpClient::Options smtp;
    smtp.host = m.host;
    smtp.port = m.port;
    smtp.starttls = m.starttls == config::SmtpStartTls::required ? net::StartTls::required
                    : m.starttls == config::SmtpStartTls::opportunistic
                        ? net::StartTls::opportunistic
                        : net::StartTls::off;
    smtp.implicit_tls = m.implicit_tls;
    smtp.username = m.username;
    smtp.password = m.password;
    smtp.helo = m.helo;
    smtp.ca_file = m.ca_file.string();
    smtp.timeout = std::chrono::milliseconds(m.timeout_ms);
    email = std::make_unique<notify::EmailSender>(
        smtp, notify::MailAddress{m.from_address, m.from_name}, rt.clock());
  }
  web::NoticeWordingFn words = web::make_notice_wording(*rt.site, cfg.public_url, rt.clock());
  notify::Wording wording = [words = std::move(words)](const engine::PendingNotice& n) {
    web::NoticeWords w = words(n);
    return notify::NoticeText{std::move(w.title), std::move(w.body), std::move(w.link),
                              std::move(w.link_label), std::move(w.footer)};
  };
  rt.notifier = std::make_unique<notify::Notifier>(*rt.store, *rt.contacts, std::move(wording),
                                                   std::move(push), std::move(email),
                                                   notify::NotifierOptions{});
  rt.notifier->start();
}

// Each route group's dependencies, holding only what the group uses (docs/architecture.md). They
// outlive the router, whose handlers refer to them.
struct RouteDeps {
  visitor::VisitorDeps visitor;  // the public API, the demo shop, forward-auth, the built-in proxy
  api::AwsDeps aws;
  gate::OidcDeps oidc;
  web::RoomPageDeps room_page;
  api::AdminDeps admin;
  api::OpsDeps ops;
  web::dashboard::DashboardDeps dashboard;
};

// From the runtime and what the caller owns besides; the metrics the server and the proxy make
// later are set by the caller (ops.http_metrics, ops.proxy_metrics).
// Where the rooms' minutes are kept for history_days: with the rooms, in the data dir or in Redis.
std::unique_ptr<store::HistoryArchive> open_history_archive(const Runtime& rt,
                                                            const config::ServerConfig& cfg) {
  if (rt.redis)
    return std::make_unique<store::redis::RedisHistoryArchive>(
        *rt.redis, store::redis::RedisKeys(cfg.redis.key_prefix), cfg.dashboard.history_days);
  return std::make_unique<store::HistoryFileArchive>(cfg.data_dir / "history",
                                                     cfg.dashboard.history_days);
}

RouteDeps route_deps(Runtime& rt, const config::ServerConfig& cfg, visitor::AbuseGuard& abuse,
                     const store::RoomHistory& history,
                     const ops::EventStreamMetrics& event_stream_metrics) {
  const visitor::VisitorDeps visitors{*rt.store, abuse, cfg, &*rt.notices};
  RouteDeps deps{visitors,
                 {visitors, *rt.keys, rt.clock()},
                 {visitors, *rt.keys, rt.clock()},
                 {visitors, rt.clock()},
                 {*rt.store, *rt.keys, cfg, rt.clock(), abuse, history},
                 {*rt.store, *rt.keys, abuse, event_stream_metrics},
                 {cfg, rt.clock()}};
  if (rt.manual_clock) deps.admin.manual_clock = &*rt.manual_clock;
  deps.admin.feed = rt.feed.get();
  deps.admin.push_keys = rt.push_keys.get();
  deps.room_page.sign_in = rt.sign_in.get();
  deps.ops.sign_in = rt.sign_in.get();
  deps.admin.tokens = rt.tokens.get();
  deps.dashboard.tokens = rt.tokens.get();
  deps.admin.audit = rt.audit.get();
  deps.aws.audit = rt.audit.get();
  if (rt.redis)
    deps.admin.publish_keys = [&rt, &cfg] {
      return store::redis::publish_secrets(*rt.redis, store::redis::RedisKeys(cfg.redis.key_prefix),
                                           cfg.data_dir);
    };
  for (const auto& hook : rt.webhooks) deps.ops.webhooks.push_back(hook.get());
  return deps;
}

void build_routes(http::Router& router, RouteDeps& deps, const web::Site& site,
                  api::EventStreams& events) {
  api::add_public_routes(router, deps.visitor);
  events.add_routes(router);
  api::add_admin_routes(router, deps.admin);
  api::add_ops_routes(router, deps.ops);
  api::add_aws_public_routes(router, deps.aws);
  api::add_aws_private_routes(router, deps.aws);
  gate::add_forward_auth_routes(router, deps.visitor);
  gate::add_oidc_routes(router, deps.oidc);
  web::add_room_page_routes(router, deps.room_page, site);
  api::add_demo_routes(router, deps.visitor);
  deps.admin.sessions =
      web::dashboard::add_dashboard_routes(router, deps.dashboard, site.languages());
}

// Every connection (and every live update stream) is a descriptor: raise the soft limit to the
// hard one, as far as the system lets us. Returns the soft limit in force.
rlim_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

// The config file, the environment, then the command line's flags (start and SIGHUP alike).
core::Result<config::ServerConfig> effective_config(const ServeOptions& options) {
  auto cfg = config::load_config(options.config_file);
  if (!cfg) return cfg;
  if (options.listen) cfg->listen = *options.listen;
  if (options.data_dir) cfg->data_dir = *options.data_dir;
  if (options.threads) cfg->threads = *options.threads;
  if (options.durability) {
    auto d = config::parse_durability(*options.durability);
    if (!d)
      return std::unexpected(
          core::Error{core::ErrorCode::bad_request, "--durability " + d.error().detail});
    cfg->durability = *d;
  }
  if (cfg->threads == 0) cfg->threads = std::max(1u, std::thread::hardware_concurrency());
  return cfg;
}

// SIGHUP: the key files (`waitroom keys rotate` beside a live server), then the config file's
// rooms (app/config_reload.hpp). A config that no longer parses changes nothing.
void reload(const ServeOptions& options, Runtime& rt, config::ServerConfig& loaded,
            visitor::AbuseGuard& abuse) {
  // With the Redis store the keys are the deployment's: take what another node's rotation
  // published.
  if (rt.redis) {
    auto shared = store::redis::share_secrets(
        *rt.redis, store::redis::RedisKeys(loaded.redis.key_prefix), loaded.data_dir, rt.clock());
    if (!shared)
      ops::log_error("could not read the shared keys from Redis",
                     {{"error", shared.error().detail}});
  }
  if (auto r = rt.keys->reload(); !r)
    ops::log_error("key reload failed", {{"error", r.error().detail}});
  else
    ops::log_info("keys reloaded");
  if (rt.push_keys)
    if (auto r = rt.push_keys->reload(); !r)
      ops::log_error("VAPID key reload failed", {{"error", r.error().detail}});
  auto next = effective_config(options);
  if (!next) {
    ops::log_error("config reload failed: keeping the running config",
                   {{"error", next.error().detail}});
    return;
  }
  const ReloadReport report = apply_config_rooms(
      *rt.store, &loaded, *next, [](auto op) { return run_now(std::move(op)); }, rt.audit.get());
  for (const std::string& room : report.rooms_updated) abuse.forget(room);
  ops::log(report.rooms_failed.empty() ? ops::LogLevel::info : ops::LogLevel::error,
           "config reloaded",
           {{"rooms_created", join(report.rooms_created)},
            {"rooms_updated", join(report.rooms_updated)},
            {"rooms_failed", join(report.rooms_failed)},
            {"restart_needed_for", join(report.restart_needed)}});
  // The rooms as now read are the baseline of the next reload; the rest stays as started.
  loaded.rooms = std::move(next->rooms);
  loaded.room_sections = std::move(next->room_sections);
}

}  // namespace

int serve(const ServeOptions& options) {
  auto loaded = effective_config(options);
  if (!loaded) return fail_with(loaded.error());
  config::ServerConfig cfg = std::move(*loaded);
  auto listen = config::parse_listen(cfg.listen);
  if (!listen) return fail_with(listen.error());
  if (cfg.manual_clock && !config::is_loopback(listen->first))
    return fail_with(
        core::Error{core::ErrorCode::bad_request,
                    "testing.manual_clock is for tests only and needs a loopback listen address"});
  if (cfg.log_write_delay_ms > 0 && !config::is_loopback(listen->first))
    return fail_with(core::Error{
        core::ErrorCode::bad_request,
        "testing.log_write_delay_ms is for tests only and needs a loopback listen address"});

  // Block the signals before any thread starts so that only the signal_set below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ,
              SIG_IGN);  // a file size limit fails the write (503, retried), not the process

  auto tls = open_tls(cfg.tls);
  if (!tls) return fail_with(tls.error());

  const rlim_t open_files = raise_open_file_limit();
  Runtime rt;
  if (auto r = rt.open(cfg); !r) return fail_with(r.error());
  if (cfg.admin_key.empty())
    ops::log_warn(
        "no admin key: the admin API answers 401 until WAITROOM_ADMIN_KEY or admin_key_file is "
        "set");

  // The dashboard's charts: every room's numbers each interval, in memory, and each minute's,
  // kept for history_days (docs/dashboard.md).
  store::RoomHistory history(cfg.dashboard.history_interval_ms);
  const std::unique_ptr<store::HistoryArchive> history_archive = open_history_archive(rt, cfg);
  store::HistorySampler sampler(*rt.store, history, rt.clock(), history_archive.get());
  // Live update streams: declared before the server, whose io_contexts hold the streams.
  ops::EventStreamMetrics event_stream_metrics;
  api::EventStreams event_streams(*rt.store, cfg.limits, event_stream_metrics);
  visitor::AbuseGuard abuse(*rt.store, rt.clock(), rt.abuse_secret);
  event_streams.set_abuse_guard(&abuse);
  RouteDeps deps = route_deps(rt, cfg, abuse, history, event_stream_metrics);
  deps.admin.history_archive = history_archive.get();
  start_notifier(rt, cfg);
  deps.ops.notification_metrics = [&rt](std::string& out) { rt.notifier->render_metrics(out); };
  http::Router router;
  build_routes(router, deps, *rt.site, event_streams);
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& r : router.routes())
    labels.emplace_back(std::string(http::beast_http::to_string(r.method)), r.pattern);
  ops::HttpMetrics metrics(std::move(labels));
  deps.ops.http_metrics = &metrics;

  http::Server server(cfg.limits, router, metrics);
  // The gate treats a pass too large to use as no pass, so its requests may have large heads: a
  // 431 there would reach a visitor behind nginx's auth_request as a 500.
  server.allow_large_heads(cfg.gate_path);
  if (*tls) {
    server.set_tls(*tls, config::strict_transport_security(cfg.tls));
    deps.ops.tls = tls->get();
  }
  // The built-in proxy ([[routes]]). Declared after the server so that it, and the pooled upstream
  // connections of the server's io_contexts, go first.
  std::optional<ops::ProxyMetrics> proxy_metrics;
  std::unique_ptr<gate::ReverseProxy> proxy;
  if (!cfg.routes.empty()) {
    proxy_metrics.emplace(gate::ReverseProxy::metric_labels(cfg.routes));
    deps.ops.proxy_metrics = &*proxy_metrics;
    auto created = gate::ReverseProxy::create(deps.visitor, *proxy_metrics);
    if (!created) return fail_with(created.error());
    proxy = std::move(*created);
    server.set_stream_handler(proxy.get());
    for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
      // Rooms may be created later through the admin API; until then the route answers 503.
      if (!run_now(rt.store->room(cfg.routes[i].room)))
        ops::log_warn("a route's room does not exist yet",
                      {{"route", config::route_key(i)}, {"room", cfg.routes[i].room}});
    }
  }
  auto port = server.listen(listen->first, listen->second, cfg.threads);
  if (!port) return fail_with(port.error());
  server.start();
  sampler.start();

  // The admission driver: every room's policy, a step every kAdmissionStepMs. Under the test
  // clock, steps happen only when a test moves the clock.
  std::jthread driver;
  if (!rt.manual_clock) {
    driver = std::jthread([&rt](std::stop_token stop) {
      while (!stop.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(store::kAdmissionStepMs));
        rt.store->drive_admissions();
      }
    });
  }
  ops::log_info("listening",
                {{"address", listen->first + ":" + std::to_string(*port)},
                 {"threads", cfg.threads},
                 {"tls", *tls != nullptr},
                 {"open_files", static_cast<std::uint64_t>(open_files)},
                 {"data_dir", cfg.data_dir.string()},
                 {"durability", cfg.durability == config::Durability::fsync ? "fsync" : "relaxed"},
                 {"store", cfg.store == config::StoreKind::redis ? "redis" : "embedded"},
                 {"replayed_records", rt.store->replayed_records()}});

  config::ServerConfig reloaded = cfg;  // what the last reload read (cfg itself stays as started)
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      reload(options, rt, reloaded, abuse);
      if (*tls) reload_tls(**tls);  // a renewed certificate: new connections get it
      continue;
    }
    ops::log_info("stopping", {{"signal", sig}});
    break;
  }
  // Requests in flight finish (their writes reach the disk below); new ones go elsewhere.
  const auto drain_started = std::chrono::steady_clock::now();
  const bool drained = server.drain(std::chrono::seconds(cfg.limits.shutdown_timeout_s));
  server.join();
  ops::log_info("drained", {{"all_requests_finished", drained},
                            {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - drain_started)
                                       .count()}});
  sampler.stop();
  if (driver.joinable()) {
    driver.request_stop();
    driver.join();
  }
  if (rt.notifier) rt.notifier->stop();  // what it sent and had not reported stays due
  rt.store->stop();                      // writes and syncs what is pending
  // Give receivers a moment to take what is pending; what is left is sent after the restart (each
  // sink saves its place as it stops).
  for (const auto& hook : rt.webhooks) hook->wait_idle(std::chrono::seconds(2));
  return 0;
}

int print_routes() {
  // Handlers only refer to their dependencies; a throwaway data dir gives them something to hold.
  std::string dir = (std::filesystem::temp_directory_path() / "waitroom-routes-XXXXXX").string();
  if (!::mkdtemp(dir.data())) return 1;
  config::ServerConfig cfg;
  cfg.data_dir = dir;
  int rc = 1;
  {
    Runtime rt;
    if (auto r = rt.open(cfg); r) {
      store::RoomHistory history;
      ops::EventStreamMetrics event_stream_metrics;
      api::EventStreams event_streams(*rt.store, cfg.limits, event_stream_metrics);
      visitor::AbuseGuard abuse(*rt.store, rt.clock(), rt.abuse_secret);
      RouteDeps deps = route_deps(rt, cfg, abuse, history, event_stream_metrics);
      http::Router router;
      build_routes(router, deps, *rt.site, event_streams);
      for (const auto& route : router.routes())
        std::cout << http::beast_http::to_string(route.method) << " " << route.pattern << "\n";
      rc = 0;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}

int bench_fill(const std::filesystem::path& data_dir, const std::string& room,
               std::uint64_t tickets, const std::filesystem::path& config_file) {
  auto loaded = config::load_config(config_file);
  if (!loaded) return fail_with(loaded.error());
  config::ServerConfig cfg = std::move(*loaded);
  cfg.data_dir = data_dir;
  if (cfg.rooms.empty() ||
      std::none_of(cfg.rooms.begin(), cfg.rooms.end(), [&](auto& r) { return r.first == room; }))
    cfg.room_sections.emplace_back(room, boost::json::object{});
  Runtime rt;
  if (auto r = rt.open(cfg); !r) return fail_with(r.error());
  constexpr std::uint64_t kChunk = 1'000'000;
  for (std::uint64_t done = 0; done < tickets;) {
    const std::uint64_t n = std::min(kChunk, tickets - done);
    if (!rt.embedded)
      return fail_with(
          core::Error{core::ErrorCode::bad_request, "bench-fill needs the embedded store", 0});
    if (auto r = rt.embedded->fill(room, n); !r) return fail_with(r.error());
    done += n;
  }
  rt.store->stop();
  std::cout << "filled " << tickets << " tickets into room " << room << "\n";
  return 0;
}

}  // namespace waitroom::app
