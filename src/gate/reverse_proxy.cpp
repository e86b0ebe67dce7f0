#include "gate/reverse_proxy.hpp"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>

#include "gate/deny.hpp"
#include "gate/proxy_headers.hpp"
#include "http/problem.hpp"
#include "http/transport.hpp"
#include "http/wire.hpp"
#include "visitor/visitor_pass.hpp"

namespace waitroom::gate {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;
using http::Status;
using Outcome = ops::ProxyMetrics::Outcome;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kRelayBufferBytes = 64 * 1024;  // one read, one write of a streamed body
constexpr std::size_t kMaxSpareBuffers = 64;          // per I/O thread
constexpr std::int64_t kClientWriteTimeoutS = 30;     // as for the server's own answers
constexpr std::uint32_t kUpstreamHeaderLimitBytes = 64 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// How a relay of one message body ended: cleanly, or on which side.
enum class Side { none, read, write };
struct RelayEnd {
  Side side = Side::none;
  error_code ec;
  bool body_read = false;  // body bytes were taken from `from` (and cannot be read again)
};

// Streams one message from `from` to `to`: the head in `parser` (already read and rewritten, and
// serialized by `serializer`), then the body through `buf`, one read and one write at a time, so
// memory stays bounded whatever the size. Beast's buffer_body relay, with read_some so that a
// slow, streamed body (server-sent events) goes out as it comes in. Each read and write has its
// own deadline: `read_timeout_s` is an idle timeout between reads.
template <bool isRequest, class FromStream, class ToStream>
asio::awaitable<RelayEnd> relay(FromStream& from, beast::flat_buffer& from_buffer,
                                bhttp::parser<isRequest, bhttp::buffer_body>& parser, ToStream& to,
                                bhttp::serializer<isRequest, bhttp::buffer_body>& serializer,
                                char* buf, http::Deadline& deadline, std::int64_t read_timeout_s,
                                std::int64_t write_timeout_s) {
  RelayEnd end;
  auto& body = parser.get().body();
  // The head goes out alone only when no body bytes are waiting: the receiver may need it before
  // the body comes (a streamed answer). Otherwise head and first piece leave in one write.
  if (!parser.is_done() && from_buffer.size() == 0) {
    deadline.expire_in(write_timeout_s);
    auto [ec, n] = co_await bhttp::async_write_header(to, serializer, as_tuple(use_awaitable));
    if (ec) {
      end.side = Side::write;
      end.ec = ec;
      co_return end;
    }
  }
  while (!serializer.is_done()) {
    if (!parser.is_done()) {
      body.data = buf;
      body.size = kRelayBufferBytes;
      deadline.expire_in(read_timeout_s);
      auto [ec, n] =
          co_await bhttp::async_read_some(from, from_buffer, parser, as_tuple(use_awaitable));
      if (ec == bhttp::error::need_buffer) ec = {};  // `buf` is full: write it out, then read on
      if (ec) {
        end.side = Side::read;
        end.ec = ec;
        co_return end;
      }
      body.size = kRelayBufferBytes - body.size;  // what the parser put into `buf`
      body.data = buf;
      body.more = !parser.is_done();
      if (body.size > 0)
        end.body_read = true;
      else if (body.more)
        continue;  // e.g. only a chunk header arrived
    } else {
      body.data = nullptr;  // the end of the body (for chunked: the last chunk)
      body.size = 0;
      body.more = false;
    }
    deadline.expire_in(write_timeout_s);
    auto [ec, n] = co_await bhttp::async_write(to, serializer, as_tuple(use_awaitable));
    if (ec == bhttp::error::need_buffer) ec = {};  // `buf` went out: refill it
    if (ec) {
      end.side = Side::write;
      end.ec = ec;
      co_return end;
    }
  }
  co_return end;
}

// Tries the upstream's addresses in order within `timeout_s` each. operation_aborted: timed out.
asio::awaitable<error_code> connect(tcp::socket& socket,
                                    const std::vector<tcp::endpoint>& endpoints,
                                    http::Deadline& deadline, std::int64_t timeout_s) {
  error_code last = asio::error::host_not_found;
  for (const tcp::endpoint& endpoint : endpoints) {
    error_code ignored;
    socket.close(ignored);
    deadline.expire_in(timeout_s);
    auto [ec] = co_await socket.async_connect(endpoint, as_tuple(use_awaitable));
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ignored);
      co_return ec;
    }
    last = ec;
    if (ec == asio::error::operation_aborted) break;
  }
  co_return last;
}

// Errors that mean the upstream closed a connection without a byte of answer (partial_message,
// a cut-off answer, is not one: the upstream took the request). On a pooled connection, the
// usual race with the upstream's idle timeout, which a fresh connection resolves.
bool closed_by_peer(const error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

// What serve() learned about the request before forwarding it.
struct ReverseProxy::Forwarding {
  std::size_t route_index = 0;
  std::optional<store::PassCheck> pass;
  const config::BypassRule* bypass = nullptr;
  unsigned client_version = 11;
  bool client_keep_alive = true;  // what the client's request allows
  bool expects_continue = false;  // the client waits for "100 Continue" before its body
  bool keep_alive = false;        // the result: whether the client connection carries on
};

namespace {

// A request standing for the client's in the proxy's own answers (refusals, 502, 504): its HTTP
// version, whether the connection may carry on (only if the body was read whole), and Accept.
http::Request answer_shell(const http::StreamExchange& ex, unsigned version, bool keep_alive) {
  http::Request shell;
  shell.version(version);
  shell.keep_alive(keep_alive && ex.parser.is_done());
  if (auto accept = http::header_value(ex.parser.get(), "Accept"); !accept.empty())
    shell.set(bhttp::field::accept, accept);
  return shell;
}

// Strict-Transport-Security ([tls]) on an answer that has none of its own.
void add_hsts(bhttp::fields& answer, std::string_view hsts) {
  if (!hsts.empty() && answer.find(bhttp::field::strict_transport_security) == answer.end())
    answer.set(bhttp::field::strict_transport_security, hsts);
}

// Writes one whole answer of the proxy's own; true when the connection may carry on.
asio::awaitable<bool> write_answer(http::StreamExchange& ex, http::Response& res, bool head_request,
                                   std::string_view hsts) {
  if (head_request) res.body().clear();  // Content-Length stays the GET's
  add_hsts(res, hsts);
  std::string wire;
  http::serialize_response(res, wire);
  ex.deadline.expire_in(kClientWriteTimeoutS);
  auto [ec, n] = co_await asio::async_write(ex.client, asio::buffer(wire), as_tuple(use_awaitable));
  ex.deadline.clear();
  co_return !ec && res.keep_alive();
}

// Where the room page sends the visitor back to: the path and query asked for, on this host; an
// absolute URL only when the room page is elsewhere (public_url).
std::string return_url(const visitor::VisitorDeps& s, const http::StreamExchange& ex) {
  const std::string_view target = ex.parser.get().target();
  const std::string_view host = http::header_value(ex.parser.get(), "Host");
  if (s.config.public_url.empty() || host.empty()) return std::string(target);
  const bool https =
      ex.client.is_tls() || http::header_value(ex.parser.get(), "X-Forwarded-Proto") == "https";
  const std::string_view proto = https ? "https" : "http";
  return std::string(proto) + "://" + std::string(host) + std::string(target);
}

}  // namespace

ReverseProxy::ReverseProxy(const visitor::VisitorDeps& deps, ops::ProxyMetrics& metrics)
    : deps_(deps),
      metrics_(metrics),
      table_(deps.config.routes),
      strict_transport_security_(config::strict_transport_security(deps.config.tls)) {}

core::Result<std::unique_ptr<ReverseProxy>> ReverseProxy::create(const visitor::VisitorDeps& deps,
                                                                 ops::ProxyMetrics& metrics) {
  std::unique_ptr<ReverseProxy> proxy(new ReverseProxy(deps, metrics));
  const auto& routes = deps.config.routes;
  std::vector<std::pair<std::string, std::uint16_t>> upstream_keys;
  asio::io_context ctx;
  tcp::resolver resolver(ctx);
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const config::ProxyRoute& r = routes[i];
    const std::string key = config::route_key(i);
    auto rules = BypassRules::compile(r.bypass, key + ".bypass");
    if (!rules) return std::unexpected(rules.error());
    // Routes to the same host:port share one upstream, and so its idle connections.
    const std::pair<std::string, std::uint16_t> upstream_key{r.upstream_host, r.upstream_port};
    auto found = std::find(upstream_keys.begin(), upstream_keys.end(), upstream_key);
    const auto upstream = static_cast<std::size_t>(found - upstream_keys.begin());
    if (found == upstream_keys.end()) {
      error_code ec;
      auto results = resolver.resolve(r.upstream_host, std::to_string(r.upstream_port), ec);
      if (ec || results.empty())
        return core::fail(core::ErrorCode::bad_request,
                          "config: " + key + ".upstream: cannot resolve " + r.upstream_host + ": " +
                              (ec ? ec.message() : "no address"));
      Upstream u;
      for (const auto& entry : results) u.endpoints.push_back(entry.endpoint());
      proxy->upstreams_.push_back(std::move(u));
      upstream_keys.push_back(upstream_key);
    }
    proxy->routes_.push_back(Route{&r, std::move(*rules), upstream});
  }
  return proxy;
}

std::vector<ops::ProxyMetrics::RouteLabels> ReverseProxy::metric_labels(
    const std::vector<config::ProxyRoute>& routes) {
  std::vector<ops::ProxyMetrics::RouteLabels> out;
  for (const auto& r : routes) out.push_back({r.host, r.path_prefix, r.room});
  return out;
}

void ReverseProxy::prepare(std::size_t workers) {
  workers_.clear();
  for (std::size_t i = 0; i < workers; ++i)
    workers_.push_back(std::make_unique<Worker>(upstreams_.size()));
}

std::optional<std::size_t> ReverseProxy::match(std::string_view host, std::string_view path) const {
  return table_.match(host, path);
}

asio::awaitable<bool> ReverseProxy::serve(std::size_t index, http::StreamExchange& ex) {
  const auto started = std::chrono::steady_clock::now();
  const Route& route = routes_[index];
  const config::ProxyRoute& cfg = *route.config;
  auto& req = ex.parser.get();
  const bool head_request = req.method() == http::Method::head;
  Forwarding fwd;
  fwd.route_index = index;
  fwd.client_version = req.version();
  fwd.client_keep_alive = ex.parser.keep_alive();
  Outcome outcome = Outcome::refused;
  if (has_dot_segment(ex.path)) {
    // Browsers resolve dot segments before sending; an upstream resolving them could be led past
    // the route or bypass rule the raw path seems to match.
    outcome = Outcome::client_error;
    http::Response res =
        http::problem(answer_shell(ex, fwd.client_version, fwd.client_keep_alive),
                      Status::bad_request, "the path has \".\" or \"..\" segments");
    fwd.keep_alive = co_await write_answer(ex, res, head_request, strict_transport_security_);
  } else {
    fwd.bypass = route.bypass.match(BypassRequest{ex.path, req, ex.remote});
    if (!fwd.bypass) {
      std::string why;
      fwd.pass = co_await visitor::live_pass(deps_, req, ex.remote, cfg.room, why);
      if (!fwd.pass) {
        // Only refusals pay for telling a missing room (a configuration mistake) from a missing
        // pass.
        auto lookup = deps_.store.room(cfg.room);
        auto known = co_await std::move(lookup);
        const http::Request shell = answer_shell(ex, fwd.client_version, fwd.client_keep_alive);
        http::Response res;
        if (known) {
          const std::string back = return_url(deps_, ex);
          res = deny(deps_, shell, Refusal{cfg.room, why, back});
        } else {
          res = http::problem(shell, Status::service_unavailable,
                              "the room of this route does not exist");
        }
        fwd.keep_alive = co_await write_answer(ex, res, head_request, strict_transport_security_);
      }
    }
    if (fwd.bypass || fwd.pass) outcome = co_await forward(route, ex, fwd);
  }
  ex.deadline.clear();
  ex.deadline.also_cancel(nullptr);
  metrics_.observe(
      index, outcome,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return fwd.keep_alive;
}

namespace {

using AnswerParser = bhttp::response_parser<bhttp::buffer_body>;

// The request as the upstream gets it: hop-by-hop and X-Waitroom-* fields of the client's gone,
// X-Forwarded-* and what the gate decided (the pass's ticket, or the bypass rule) set, the
// route's base path in front. (ex.path and ex.query point into the old target: unused after.)
void rewrite_for_upstream(http::StreamExchange& ex, const config::ProxyRoute& cfg,
                          const std::optional<store::PassCheck>& pass,
                          const config::BypassRule* bypass) {
  auto& req = ex.parser.get();
  const std::string original_host(http::header_value(req, "Host"));
  remove_hop_by_hop(req);
  remove_waitroom_fields(req);
  req.erase(bhttp::field::expect);  // answered here, once the request is known to go through
  set_forwarded(req, ex.remote, original_host, ex.client.is_tls());
  if (original_host.empty())
    req.set(bhttp::field::host, cfg.upstream_host);  // HTTP/1.1 requires one
  if (pass) {
    req.set("X-Waitroom-Room", cfg.room);
    req.set("X-Waitroom-Ticket", pass->ticket);
    req.set("X-Waitroom-Expires", std::to_string(pass->expires_at_s));
    req.set("X-Waitroom-Party-Size", std::to_string(pass->party_size));
  } else {
    req.set("X-Waitroom-Bypass", config::bypass_kind_name(bypass->kind));
  }
  if (!cfg.upstream_base_path.empty())
    req.target(cfg.upstream_base_path + std::string(req.target()));
  req.version(11);  // keep-alive to the upstream whatever the client speaks
  if (ex.parser.chunked()) req.chunked(true);  // the body goes on as it comes, chunk by chunk
}

// Reads the head of the upstream's answer into `answer`; interim 1xx answers (100 Continue from
// the upstream) are dropped.
asio::awaitable<error_code> read_answer_head(UpstreamConnection& conn,
                                             std::optional<AnswerParser>& answer, bool head_request,
                                             http::Deadline& deadline, std::int64_t timeout_s) {
  for (;;) {
    answer.emplace();
    answer->header_limit(kUpstreamHeaderLimitBytes);
    answer->body_limit(boost::none);  // streamed, so any size
    if (head_request) answer->skip(true);
    deadline.expire_in(timeout_s);
    auto [ec, n] = co_await bhttp::async_read_header(conn.socket, conn.buffer, *answer,
                                                     as_tuple(use_awaitable));
    const unsigned status = ec ? 0 : answer->get().result_int();
    if (ec || status < 100 || status >= 200 || status == 101) co_return ec;
  }
}

// Where an upstream failed before its answer began.
enum class Step { connect, send, answer };
struct UpstreamFailure {
  Status status;
  std::string_view detail;
  Outcome outcome;
};

// The proxy's own answer for it: 504 when the step timed out, 502 otherwise.
UpstreamFailure upstream_failure(Step step, const error_code& ec) {
  static constexpr std::string_view kTimedOut[] = {
      "the upstream did not accept the connection in time",
      "the upstream did not take the request in time", "the upstream did not answer in time"};
  static constexpr std::string_view kBroken[] = {
      "the upstream cannot be reached",
      "the upstream closed the connection while taking the request",
      "the upstream closed the connection or sent a malformed answer"};
  const auto i = static_cast<std::size_t>(step);
  if (ec == asio::error::operation_aborted)
    return {Status::gateway_timeout, kTimedOut[i], Outcome::upstream_timeout};
  return {Status::bad_gateway, kBroken[i], Outcome::upstream_error};
}

}  // namespace

// What reach_upstream() came back with: the upstream's answer head on its connection, or the
// answer of the proxy's own to send instead, or a client that went away.
struct ReverseProxy::Attempt {
  std::optional<UpstreamConnection> conn;
  std::optional<AnswerParser> answer;
  std::optional<http::Response> failed;       // set: answer this instead
  Outcome outcome = Outcome::upstream_error;  // of a failure
  bool client_gone = false;
};

asio::awaitable<Outcome> ReverseProxy::forward(const Route& route, http::StreamExchange& ex,
                                               Forwarding& fwd) {
  const config::ProxyRoute& cfg = *route.config;
  Worker& worker = *workers_[ex.worker];
  const bool head_request = ex.parser.get().method() == http::Method::head;
  fwd.expects_continue =
      !ex.parser.is_done() &&
      beast::iequals(http::header_value(ex.parser.get(), "Expect"), "100-continue");
  rewrite_for_upstream(ex, cfg, fwd.pass, fwd.bypass);  // removes Expect

  std::unique_ptr<char[]> buf;
  if (worker.spare_buffers.empty()) {
    buf = std::make_unique_for_overwrite<char[]>(kRelayBufferBytes);
  } else {
    buf = std::move(worker.spare_buffers.back());
    worker.spare_buffers.pop_back();
  }
  Attempt attempt;  // Beast's parser cannot move: filled in place
  const auto asked = std::chrono::steady_clock::now();
  co_await reach_upstream(route, ex, fwd, buf.get(), attempt);
  if (attempt.client_gone) co_return Outcome::client_error;
  // The site's health, for adaptive admission: how long it took to begin its answer (its body's
  // relay depends on the client as much), and whether it failed.
  deps_.store.health().observe(cfg.room,
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - asked)
                                   .count(),
                               attempt.failed || attempt.answer->get().result_int() >= 500);
  if (attempt.failed) {
    ex.deadline.also_cancel(nullptr);
    fwd.keep_alive =
        co_await write_answer(ex, *attempt.failed, head_request, strict_transport_security_);
    co_return attempt.outcome;
  }

  // The answer as the client gets it, framed for the client's connection.
  AnswerParser& answer = *attempt.answer;
  UpstreamConnection& conn = *attempt.conn;
  auto& res = answer.get();
  const bool upstream_reusable = answer.keep_alive();
  const bool has_body = !answer.is_done();  // not HEAD, 1xx, 204, 304 or empty
  const bool has_length = answer.content_length().has_value();
  remove_hop_by_hop(res);
  // renew_on_activity: the renewed pass rides on the site's answer, next to its own cookies.
  if (fwd.pass) {
    std::optional<std::string> renewed =
        co_await visitor::renewed_pass_cookie(deps_, cfg.room, *fwd.pass);
    if (renewed) res.insert(bhttp::field::set_cookie, *renewed);
  }
  add_hsts(res, strict_transport_security_);
  res.version(fwd.client_version);
  bool keep_alive = fwd.client_keep_alive;
  if (has_body && !has_length) {
    if (fwd.client_version >= 11)
      res.chunked(true);
    else
      keep_alive = false;  // an HTTP/1.0 client learns where the body ends from the close
  }
  res.keep_alive(keep_alive);
  bhttp::response_serializer<bhttp::buffer_body> answer_out{res};
  const RelayEnd got =
      co_await relay<false>(conn.socket, conn.buffer, answer, ex.client, answer_out, buf.get(),
                            ex.deadline, cfg.response_timeout_s, kClientWriteTimeoutS);
  ex.deadline.also_cancel(nullptr);
  ex.deadline.clear();
  if (worker.spare_buffers.size() < kMaxSpareBuffers)
    worker.spare_buffers.push_back(std::move(buf));
  if (got.side != Side::none) {
    // The head is out, so the client can only learn of a broken answer from the closed connection.
    fwd.keep_alive = false;
    if (got.side == Side::write) co_return Outcome::client_error;
    co_return got.ec == asio::error::operation_aborted ? Outcome::upstream_timeout
                                                       : Outcome::upstream_error;
  }
  if (upstream_reusable && conn.buffer.size() == 0)
    worker.pool.put(route.upstream, std::move(conn));
  fwd.keep_alive = keep_alive;
  co_return fwd.bypass ? Outcome::bypassed : Outcome::proxied;
}

// Sends the request (head and streamed body) over a pooled connection or a new one and reads the
// answer's head. A pooled connection the upstream closed while idle is replaced by a new one, as
// long as no body bytes were taken from the client (they cannot be read again).
asio::awaitable<void> ReverseProxy::reach_upstream(const Route& route, http::StreamExchange& ex,
                                                   const Forwarding& fwd, char* buf, Attempt& out) {
  const config::ProxyRoute& cfg = *route.config;
  const bool head_request = ex.parser.get().method() == http::Method::head;
  const auto fail = [&](const UpstreamFailure& failure) {
    out.failed = http::problem(answer_shell(ex, fwd.client_version, fwd.client_keep_alive),
                               failure.status, failure.detail);
    out.outcome = failure.outcome;
    out.conn.reset();
  };
  bool body_read = false;
  bool continue_sent = false;
  for (bool first = true;; first = false) {
    out.conn.reset();
    if (first) out.conn = workers_[ex.worker]->pool.take(route.upstream);
    const bool reused = out.conn.has_value();
    if (!reused) {
      out.conn.emplace(
          UpstreamConnection{tcp::socket(ex.client.get_executor()), beast::flat_buffer{}});
      ex.deadline.also_cancel(&out.conn->socket);
      const error_code ec = co_await connect(out.conn->socket, upstreams_[route.upstream].endpoints,
                                             ex.deadline, cfg.connect_timeout_s);
      if (ec) {
        fail(upstream_failure(Step::connect, ec));
        co_return;
      }
      metrics_.connected(fwd.route_index);
    }
    ex.deadline.also_cancel(&out.conn->socket);
    if (fwd.expects_continue && !continue_sent) {
      // The client waits for this before it sends the body it announced.
      ex.deadline.expire_in(kClientWriteTimeoutS);
      const asio::const_buffer interim(kContinue.data(), kContinue.size());
      auto [ec, n] = co_await asio::async_write(ex.client, interim, as_tuple(use_awaitable));
      if (ec) {
        out.client_gone = true;
        co_return;
      }
      continue_sent = true;
    }

    bhttp::request_serializer<bhttp::buffer_body> request_out{ex.parser.get()};
    const RelayEnd sent = co_await relay<true>(
        ex.client, ex.buffer, ex.parser, out.conn->socket, request_out, buf, ex.deadline,
        deps_.config.limits.body_timeout_s, cfg.response_timeout_s);
    body_read = body_read || sent.body_read;
    if (sent.side == Side::read) {
      out.client_gone = true;
      co_return;
    }  // it stopped sending
    if (sent.side == Side::write) {
      if (reused && !body_read) continue;  // a pooled connection the upstream had closed
      fail(upstream_failure(Step::send, sent.ec));
      co_return;
    }

    const error_code head_ec = co_await read_answer_head(*out.conn, out.answer, head_request,
                                                         ex.deadline, cfg.response_timeout_s);
    if (head_ec) {
      if (reused && !body_read && closed_by_peer(head_ec)) continue;
      fail(upstream_failure(Step::answer, head_ec));
      co_return;
    }
    if (out.answer->get().result_int() == 101) {  // Upgrade is removed on the way, never asked for
      fail({Status::bad_gateway, "the upstream switched protocols, which the proxy does not carry",
            Outcome::upstream_error});
    }
    co_return;
  }
}

}  // namespace waitroom::gate
