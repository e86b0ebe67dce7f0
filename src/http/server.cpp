#include "http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <array>
#include <chrono>
#include <unordered_set>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http/problem.hpp"
#include "http/transport.hpp"
#include "http/wire.hpp"
#include "ops/log.hpp"

namespace waitroom::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

namespace {
constexpr std::int64_t kWriteTimeoutS = 30;
constexpr std::int64_t kLingerTimeoutS = 1;
constexpr std::size_t kLingerMaxBytes = 1 << 20;
constexpr int kListenBacklog = 4096;
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);

// Answers without a handler (parse errors, limits): always closes the connection afterwards.
Response edge_problem(Status status, std::string_view detail) {
  Request req;
  req.version(11);
  req.keep_alive(false);
  return problem(req, status, detail);
}

// OpenSSL recognises a plain HTTP request where a TLS ClientHello should be.
bool plain_http_on_tls_port(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}
}  // namespace

// Connection deadlines: instead of a timer per read and write (what beast::tcp_stream does), each
// connection records the tick by which its current read or write must finish, and one timer per
// thread cancels the late ones once a second (http::Deadline). Timeouts are therefore accurate to
// about a second.
struct Server::Worker {
  asio::io_context ctx{1};
  std::optional<tcp::acceptor> acceptor;
  std::size_t index = 0;   // position in workers_
  std::uint64_t tick = 0;  // seconds since start, advanced by the watchdog
  std::unordered_set<Connection*> live;
  bool draining = false;  // drain(): no more requests on any connection of this thread
  // Where lingering closes drop what clients still send. Shared by the thread's connections (the
  // bytes are thrown away), so a connection's coroutine frame does not carry 4 KiB for it.
  std::array<char, 4096> discard;
};

struct Server::Connection {
  Connection(Transport s, const std::uint64_t& tick) : stream(std::move(s)), deadline(tick) {}
  Transport stream;  // the client's bytes, plain or TLS
  Deadline deadline;
  bool idle = true;  // waiting for the next request: drain() may close it
};

namespace {
constexpr auto kWatchdogInterval = std::chrono::seconds(1);
}

Server::Server(const config::Limits& limits, const Router& router, ops::HttpMetrics& metrics)
    : limits_(limits), router_(router), metrics_(metrics) {}

Server::~Server() {
  stop();
  join();
}

core::Result<std::uint16_t> Server::listen(const std::string& host, std::uint16_t port,
                                           unsigned threads) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return core::fail(core::ErrorCode::bad_request, "listen: bad address " + host);
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    tcp::endpoint ep(address, port);
    w->acceptor.emplace(w->ctx);
    auto& a = *w->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    // Every thread accepts on the same port; the kernel spreads connections across them.
    if (!ec) a.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(kListenBacklog, ec);
    if (ec)
      return core::fail(core::ErrorCode::internal,
                        "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
    port = a.local_endpoint().port();  // port 0: the others join the port the first one got
    workers_.push_back(std::move(w));
  }
  return port;
}

asio::awaitable<void> Server::accept_loop(Worker& worker) {
  asio::steady_timer backoff(worker.ctx);
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system) {
      // Out of descriptors (thousands of open streams): the pending connection stays in the
      // listen queue, so accepting again at once would spin. Wait for descriptors to free up.
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(as_tuple(use_awaitable));
      continue;
    }
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(worker.ctx, serve_connection(worker, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::watchdog(Worker& worker) {
  asio::steady_timer timer(worker.ctx);
  for (;;) {
    timer.expires_after(kWatchdogInterval);
    auto [ec] = co_await timer.async_wait(as_tuple(use_awaitable));
    if (ec) co_return;
    ++worker.tick;
    for (Connection* c : worker.live) {
      if (c->deadline.passed()) {
        c->deadline.clear();
        c->stream.socket().cancel(ec);  // the pending read or write ends with operation_aborted
        if (tcp::socket* other = c->deadline.also_cancelled()) other->cancel(ec);
      }
    }
  }
}

asio::awaitable<bool> Server::handshake(Worker& worker, Connection& conn) {
  // Part of the request head's time: a client that connects and says nothing is gone at
  // header_timeout_s, as on plain HTTP (and drain() cancels it like an idle connection).
  conn.deadline.expire_in(worker.draining ? 1 : limits_.header_timeout_s);
  conn.idle = true;
  auto [ec] = co_await conn.stream.async_handshake(as_tuple(use_awaitable));
  conn.idle = false;
  conn.deadline.clear();
  if (!ec) co_return true;
  if (plain_http_on_tls_port(ec)) {
    // Nothing of TLS was sent yet, so a plain answer reaches the client: better than a reset.
    std::string wire;
    serialize_response(
        edge_problem(Status::bad_request, "this port speaks HTTPS: use an https:// URL"), wire);
    conn.deadline.expire_in(kWriteTimeoutS);
    co_await asio::async_write(conn.stream.socket(), asio::buffer(wire), as_tuple(use_awaitable));
    conn.deadline.clear();
  }
  co_return false;
}

asio::awaitable<void> Server::serve_connection(Worker& worker, tcp::socket socket) {
  Connection conn(tls_ ? Transport(std::move(socket), tls_->get()) : Transport(std::move(socket)),
                  worker.tick);
  worker.live.insert(&conn);
  boost::system::error_code ec;
  const auto remote = conn.stream.socket().remote_endpoint(ec).address();
  const bool over_limit = connections_.fetch_add(1) + 1 > limits_.max_connections;
  auto expire_in = [&](std::int64_t seconds) { conn.deadline.expire_in(seconds); };
  beast::flat_buffer buffer;
  std::string wire;
  std::size_t served = 0;  // requests answered on this connection
  bool linger = true;      // see the lingering close below
  bool open = true;        // TLS: once the handshake succeeded
  bool broken = false;     // a write failed or TLS broke: nothing more can be sent
  if (conn.stream.is_tls()) open = co_await handshake(worker, conn);
  const bool tls_session = open && conn.stream.is_tls();
  while (open) {
    std::optional<Response> early;  // an answer decided before routing
    beast_http::request_parser<beast_http::string_body> parser;
    Match m;  // routed as soon as the head is in
    std::string_view path, query;
    if (over_limit) {
      early = edge_problem(Status::service_unavailable, "too many connections; try again shortly");
      early->set(beast_http::field::retry_after, "1");
    } else {
      parser.header_limit(static_cast<std::uint32_t>(limits_.header_limit_bytes));
      // A request for the stream handler (a proxied upload) may be of any size, so with one the
      // body limit is applied only once the head shows the request is Waitroom's own.
      if (stream_handler_) parser.body_limit(boost::none);
      else parser.body_limit(limits_.body_limit_bytes);
      // The whole request head must arrive in time, so a slow client cannot hold a connection.
      // While draining, a connection accepted just before the listener closed gets a second for
      // its request; one that has been served goes (its client reconnects elsewhere).
      if (worker.draining && served > 0) break;
      expire_in(worker.draining ? 1 : limits_.header_timeout_s);
      conn.idle = true;
      auto [ec1, n1] = co_await beast_http::async_read_header(conn.stream, buffer, parser, as_tuple(use_awaitable));
      conn.idle = false;
      if (worker.draining && ec1 == asio::error::operation_aborted) {
        linger = false;  // idle between requests: nothing of ours is unread
        break;
      }
      if (ec1 == beast_http::error::header_limit) {
        early = edge_problem(Status::request_header_fields_too_large, "request headers are too large");
      } else if (ec1 == beast_http::error::body_limit) {
        early = edge_problem(Status::payload_too_large, "request body is too large");
      } else if (ec1 == beast_http::error::end_of_stream || ec1 == asio::error::operation_aborted ||
                 ec1 == asio::error::eof || ec1 == asio::error::connection_reset) {
        break;
      } else if (ec1.category() == asio::error::get_ssl_category()) {
        broken = true;  // a bad TLS record, or an alert from the client: no answer can go out
        break;
      } else if (ec1) {
        early = edge_problem(Status::bad_request, "malformed HTTP request");
      } else {
        std::tie(path, query) = split_target(parser.get().target());
        m = router_.match(parser.get().method(), path);
        StreamHandler* streamer = nullptr;  // who takes the connection after the head, if anyone
        std::size_t stream_route = 0;
        if (m.route && m.route->stream) {
          // A streamed route of ours (Server-Sent Events); a guard's refusal is answered below.
          if (!router_.check_guards(parser.get(), path)) {
            streamer = m.route->stream;
            stream_route = m.route->stream_route;
          }
        } else if (stream_handler_ && !m.route && m.allow.empty() && !router_.guarded(path)) {
          // Waitroom's own routes and guards always win; only what they leave goes to the handler.
          if (auto route = stream_handler_->match(header_value(parser.get(), "Host"), path)) {
            streamer = stream_handler_;
            stream_route = *route;
          }
        }
        if (streamer) {
          conn.deadline.clear();
          StreamParser stream_parser{std::move(parser)};  // the body is read piece by piece
          auto [stream_path, stream_query] = split_target(stream_parser.get().target());
          StreamExchange exchange{conn.stream,  buffer,        stream_parser,
                                  stream_path,  stream_query,  remote,
                                  worker.index, conn.deadline, {}};
          if (m.route)  // the captures, as views into the moved request's target
            exchange.params = router_.match(stream_parser.get().method(), stream_path).params;
          const bool again = co_await streamer->serve(stream_route, exchange);
          conn.deadline.clear();
          conn.deadline.also_cancel(nullptr);
          if (!again || worker.draining) break;
          continue;
        }
        if (stream_handler_) {
          parser.body_limit(limits_.body_limit_bytes);  // Beast checks chunked bodies as they come
          if (auto length = parser.content_length(); length && *length > limits_.body_limit_bytes)
            early = edge_problem(Status::payload_too_large, "request body is too large");
        }
        if (!early && !parser.is_done()) {
          expire_in(limits_.body_timeout_s);
          auto [ec2, n2] = co_await beast_http::async_read(conn.stream, buffer, parser, as_tuple(use_awaitable));
          if (ec2 == beast_http::error::body_limit)
            early = edge_problem(Status::payload_too_large, "request body is too large");
          else if (ec2 == asio::error::operation_aborted)
            early = edge_problem(Status::request_timeout, "request body arrived too slowly");
          else if (ec2)
            break;
        }
      }
    }
    conn.deadline.clear();  // handlers may wait (e.g. for the disk)

    const auto started = std::chrono::steady_clock::now();
    std::size_t route_index = metrics_.unmatched_index();
    Response res;
    if (early) {
      res = std::move(*early);
    } else {
      const Request& req = parser.get();
      if (m.route) route_index = m.index;
      if (auto refused = router_.check_guards(req, path)) {
        res = std::move(*refused);
      } else if (m.route) {
        RequestContext ctx{req, std::move(m.params), path, query, remote};
        res = co_await m.route->handler(ctx);
      } else if (!m.allow.empty()) {
        res = problem(req, Status::method_not_allowed,
                      "this path does not accept " + std::string(req.method_string()));
        res.set(beast_http::field::allow, m.allow);
      } else {
        res = problem(req, Status::not_found, "no such resource: " + std::string(path));
      }
      if (req.method() == Method::head) res.body().clear();  // Content-Length stays the GET's
    }
    metrics_.observe(route_index, res.result_int(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (worker.draining) res.keep_alive(false);  // tells the client to reconnect elsewhere
    if (!strict_transport_security_.empty())
      res.set(beast_http::field::strict_transport_security, strict_transport_security_);
    const bool keep_alive = res.keep_alive();
    serialize_response(res, wire);
    expire_in(kWriteTimeoutS);
    auto [ec3, n3] = co_await asio::async_write(conn.stream, asio::buffer(wire), as_tuple(use_awaitable));
    ++served;
    broken = bool(ec3);
    if (ec3 || !keep_alive) break;
  }
  // TLS: close_notify first, so the client knows it has the whole answer (unless the connection
  // broke). Then the same lingering close as for plain HTTP, the client's TLS records dropped
  // unread.
  if (tls_session && !broken && conn.stream.is_tls()) {
    expire_in(kLingerTimeoutS);
    co_await conn.stream.async_send_close_notify(as_tuple(use_awaitable));
  }
  // Lingering close: after our answer, read and drop what the client is still sending (e.g. the
  // rest of a body we refused) for a moment, so that closing does not reset the connection
  // before the client has read the answer. (A stream handler that took the socket closes it.)
  tcp::socket& tcp_socket = conn.stream.socket();
  tcp_socket.shutdown(tcp::socket::shutdown_send, ec);
  expire_in(kLingerTimeoutS);
  for (std::size_t drained = 0; linger && tcp_socket.is_open() && drained < kLingerMaxBytes;) {
    auto [ec4, n4] = co_await tcp_socket.async_read_some(asio::buffer(worker.discard), as_tuple(use_awaitable));
    if (ec4) break;
    drained += n4;
  }
  worker.live.erase(&conn);
  connections_.fetch_sub(1);
}

void Server::start() {
  std::unordered_set<StreamHandler*> streamers;
  if (stream_handler_) streamers.insert(stream_handler_);
  for (const Route& route : router_.routes())
    if (route.stream) streamers.insert(route.stream);
  for (StreamHandler* s : streamers) s->prepare(workers_.size());
  for (auto& w : workers_) {
    asio::co_spawn(w->ctx, accept_loop(*w), asio::detached);
    asio::co_spawn(w->ctx, watchdog(*w), asio::detached);
  }
  for (auto& w : workers_) {
    threads_.emplace_back([ctx = &w->ctx] {
      try {
        ctx->run();
      } catch (const std::exception& e) {
        ops::log_error("I/O thread stopped by an exception", {{"error", e.what()}});
      }
    });
  }
}

bool Server::drain(std::chrono::milliseconds deadline) {
  for (auto& w : workers_) {
    asio::post(w->ctx, [worker = w.get()] {
      boost::system::error_code ec;
      if (worker->acceptor) worker->acceptor->close(ec);
      worker->draining = true;
      for (Connection* c : worker->live)
        if (c->idle) c->stream.socket().cancel(ec);  // its wait for a next request ends now
    });
  }
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (connections_.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool finished = connections_.load() == 0;
  stop();
  return finished;
}

void Server::stop() {
  for (auto& w : workers_) {
    asio::post(w->ctx, [worker = w.get()] {
      boost::system::error_code ec;
      if (worker->acceptor) worker->acceptor->close(ec);
    });
    w->ctx.stop();
  }
}

void Server::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace waitroom::http
