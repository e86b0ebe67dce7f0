// Fuzzes the HTTP request path: raw bytes → Beast's request parser with the server's limits →
// the router with every route `waitroom serve` has → guards → the handler, against a real
// embedded store in a temporary data dir → the response serializer. It mirrors
// Server::serve_connection (src/http/server.cpp) minus the socket, and like it handles several
// pipelined requests per input, so a fuzzed input can enqueue and then poll, admit, claim a pass.
// The clock is a manual one, so an input behaves the same every time it runs.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "api/admin_api.hpp"
#include "api/aws_api.hpp"
#include "api/aws_private_api.hpp"
#include "api/demo_page.hpp"
#include "api/ops_api.hpp"
#include "api/public_api.hpp"
#include "config/server_config.hpp"
#include "core/clock.hpp"
#include "gate/forward_auth.hpp"
#include "gate/oidc_provider.hpp"
#include "http/problem.hpp"
#include "http/request_head.hpp"
#include "http/router.hpp"
#include "http/wire.hpp"
#include "ops/event_stream_metrics.hpp"
#include "ops/http_metrics.hpp"
#include "store/embedded/embedded_store.hpp"
#include "store/room_history.hpp"
#include "token/jwt_pass_minter.hpp"
#include "token/key_ring.hpp"
#include "token/secret.hpp"
#include "token/ticket_id.hpp"
#include "visitor/abuse_guard.hpp"
#include "visitor/visitor_deps.hpp"
#include "web/dashboard/dashboard.hpp"
#include "web/room_page.hpp"
#include "web/site.hpp"

namespace {

namespace asio = boost::asio;
namespace http = waitroom::http;
namespace beast_http = boost::beast::http;

// The admin key the seeds use (fuzz/corpus/http_request/admin_*).
constexpr const char* kAdminKey = "fuzz-admin-key-0123456789abcdef";
// More pipelined requests than this in one input add nothing the fuzzer cannot find with fewer.
constexpr int kMaxRequestsPerInput = 8;

template <class T>
T run_now(asio::io_context& ctx, asio::awaitable<T> op) {
  std::optional<T> out;
  ctx.restart();
  asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, T r) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(r));
  });
  ctx.run();
  if (!out) std::abort();  // the handler never finished: a lost completion
  return std::move(*out);
}

// What serve.cpp's Runtime builds, with the demo room "shop", an admin key and the test clock.
struct World {
  std::filesystem::path dir;
  waitroom::config::ServerConfig cfg;
  waitroom::core::ManualClock clock;
  std::optional<waitroom::token::TicketIdCodec> ids;
  std::unique_ptr<waitroom::web::Site> site;
  std::unique_ptr<waitroom::token::KeyRing> keys;
  std::optional<waitroom::token::JwtPassMinter> minter;
  std::unique_ptr<waitroom::store::EmbeddedStore> store;
  std::optional<waitroom::store::RoomHistory> history;
  std::optional<waitroom::visitor::AbuseGuard> abuse;
  std::optional<waitroom::ops::EventStreamMetrics> event_stream_metrics;
  // Each route group's dependencies, as serve.cpp's route_deps builds them.
  std::optional<waitroom::visitor::VisitorDeps> visitor;
  std::optional<waitroom::api::AwsDeps> aws;
  std::optional<waitroom::gate::OidcDeps> oidc;
  std::optional<waitroom::web::RoomPageDeps> room_page;
  std::optional<waitroom::api::AdminDeps> admin;
  std::optional<waitroom::api::OpsDeps> ops;
  std::optional<waitroom::web::dashboard::DashboardDeps> dashboard;
  http::Router router;
  std::optional<waitroom::ops::HttpMetrics> metrics;
  asio::io_context ctx;

  World() {
    std::string name =
        (std::filesystem::temp_directory_path() / "waitroom-fuzz-http-XXXXXX").string();
    if (!::mkdtemp(name.data())) std::abort();
    dir = name;
    cfg.data_dir = dir;
    cfg.admin_key = kAdminKey;
    cfg.manual_clock = true;
    cfg.demo_room = "shop";
    cfg.default_room = "shop";
    waitroom::core::RoomSettings shop;
    shop.admission.mode = waitroom::core::AdmissionMode::manual;
    cfg.rooms.emplace_back("shop", shop);
    // A room with every defence on, tight: X-Forwarded-For, proof-of-work fields and binding
    // cookies from the fuzzer then reach their parsers.
    waitroom::core::RoomSettings guarded;
    guarded.abuse.tickets_per_ip_per_minute = 5;
    guarded.abuse.polls_per_ip_per_second = 2;
    guarded.abuse.pow_difficulty_bits = 1;
    guarded.abuse.bind_pass = waitroom::core::PassBinding::cookie;
    guarded.abuse.max_waiting = 50;
    cfg.rooms.emplace_back("guarded", guarded);

    auto secret = waitroom::token::load_or_create_secret(dir / "secret");
    if (!secret) std::abort();
    auto page = waitroom::web::Site::create(cfg, *secret);
    if (!page) std::abort();
    site = std::move(*page);
    const std::string abuse_secret = *secret;
    ids.emplace(std::move(*secret));
    auto ring = waitroom::token::KeyRing::open(dir / "keys", clock);
    if (!ring) std::abort();
    keys = std::move(*ring);
    minter.emplace(*keys);
    // Relaxed durability: no fsync per batch, which would only slow the fuzzer down.
    auto st = waitroom::store::EmbeddedStore::open(dir, false, clock, *ids, *minter);
    if (!st) std::abort();
    store = std::move(*st);
    store->start();
    for (const auto& [room, settings] : cfg.rooms) {
      auto put = run_now(ctx, store->put_room(room, [s = settings](const auto&) {
        return waitroom::core::Result<waitroom::core::RoomSettings>(s);
      }));
      if (!put) std::abort();
    }

    history.emplace(cfg.dashboard.history_interval_ms);
    abuse.emplace(*store, clock, abuse_secret);
    event_stream_metrics.emplace();
    visitor.emplace(waitroom::visitor::VisitorDeps{*store, *abuse, cfg});
    aws.emplace(waitroom::api::AwsDeps{*visitor, *keys, clock});
    oidc.emplace(waitroom::gate::OidcDeps{*visitor, *keys, clock});
    room_page.emplace(waitroom::web::RoomPageDeps{*visitor, clock});
    admin.emplace(waitroom::api::AdminDeps{*store, *keys, cfg, clock, *abuse, *history});
    admin->manual_clock = &clock;
    ops.emplace(waitroom::api::OpsDeps{*store, *keys, *abuse, *event_stream_metrics});
    dashboard.emplace(waitroom::web::dashboard::DashboardDeps{cfg, clock});
    // The same routes, in the same order, as serve.cpp's build_routes.
    waitroom::api::add_public_routes(router, *visitor);
    waitroom::api::add_admin_routes(router, *admin);
    waitroom::api::add_ops_routes(router, *ops);
    waitroom::api::add_aws_public_routes(router, *aws);
    waitroom::api::add_aws_private_routes(router, *aws);
    waitroom::gate::add_forward_auth_routes(router, *visitor);
    waitroom::gate::add_oidc_routes(router, *oidc);
    waitroom::web::add_room_page_routes(router, *room_page, *site);
    waitroom::api::add_demo_routes(router, *visitor);
    admin->sessions =
        waitroom::web::dashboard::add_dashboard_routes(router, *dashboard, site->languages());
    std::vector<std::pair<std::string, std::string>> labels;
    for (const auto& r : router.routes())
      labels.emplace_back(std::string(beast_http::to_string(r.method)), r.pattern);
    metrics.emplace(std::move(labels));
    ops->http_metrics = &*metrics;
  }

  // One request through the server's steps; the answer is serialized like the server sends it.
  void answer(const http::Request& req, std::string& wire) {
    std::string_view target = req.target();
    std::string_view path = target, query;
    if (auto q = target.find('?'); q != std::string_view::npos) {
      path = target.substr(0, q);
      query = target.substr(q + 1);
    }
    http::Match m = router.match(req.method(), path);
    http::Response res;
    if (auto refused = router.check_guards(req, path, asio::ip::address_v4::loopback())) {
      res = std::move(*refused);
    } else if (m.route) {
      http::RequestContext rc{req, std::move(m.params), path, query,
                              asio::ip::address_v4::loopback()};
      res = run_now(ctx, m.route->handler(rc));
    } else if (!m.allow.empty()) {
      res = http::problem(req, http::Status::method_not_allowed, "method not allowed");
      res.set(beast_http::field::allow, m.allow);
    } else {
      res = http::problem(req, http::Status::not_found, "no such resource: " + std::string(path));
    }
    if (req.method() == http::Method::head) res.body().clear();
    metrics->observe(m.route ? m.index : metrics->unmatched_index(), res.result_int(), 0.001);
    http::serialize_response(res, wire);
  }
};

World& world() {
  // Never destroyed: libFuzzer exits from anywhere, and the OS reclaims it; replay's exit runs
  // the atexit hook below, which removes the temporary data dir.
  static World* w = [] {
    auto* created = new World();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(world().dir, ec);
    });
    return created;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  asio::const_buffer input(data, size);
  std::string wire;
  for (int i = 0; i < kMaxRequestsPerInput && input.size() > 0; ++i) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(w.cfg.limits.header_limit_bytes));
    parser.body_limit(w.cfg.limits.body_limit_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    while (input.size() > 0 && !parser.is_done()) {
      const std::size_t used = parser.put(input, ec);
      input += used;
      if (ec) break;
    }
    if (!parser.is_done()) return 0;  // malformed or incomplete: the server answers 400 or waits
    // Framing or Host the server refuses before routing, and then closes (http/request_head.hpp).
    const http::Request& req = parser.get();
    if (http::check_framing(req, req.version()) || http::check_host(req, req.version())) return 0;
    w.answer(parser.get(), wire);
    if (!parser.get().keep_alive()) break;
  }
  return 0;
}
