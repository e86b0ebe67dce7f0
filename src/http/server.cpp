#include "http/server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <unordered_set>
#include <utility>

#include "http/problem.hpp"
#include "http/request_head.hpp"
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
// The most a request head may take for allow_large_heads() (the gate) or the proxy, when
// header_limit_bytes is smaller: room for the 4 x 8 KiB of headers nginx passes on by default.
constexpr std::size_t kLargeHeadCapBytes = 64 * 1024;
constexpr std::size_t kReadSizeBytes = 64 * 1024;  // the most one read asks for, as Beast's do

using RequestParser = beast_http::request_parser<beast_http::string_body>;

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
  bool idle = true;           // waiting for the next request: drain() may close it
  beast::flat_buffer buffer;  // read, not parsed yet: the rest of a head, pipelined requests
  std::string wire;           // the answer being written
  asio::ip::address remote;
  std::size_t served = 0;  // requests answered
  bool counted = true;     // against max_connections: until a stream handler takes it
};

struct Server::Incoming {
  std::optional<RequestParser> parser;  // once the whole head is in
  Match match;                          // routed as soon as the head is parsed
  std::string_view path, query;
  std::optional<Response> early;  // an answer decided before routing
  bool close_after = false;       // the framing was ambiguous: close once answered
};

enum class Server::Step : unsigned char {
  next,        // read the next request
  answer,      // answer this one (Incoming::early, or its route)
  close,       // done: close, lingering for what the client still sends
  close_idle,  // done between requests: close, nothing of ours is unread
  broken,      // a write failed or TLS broke: nothing more can be sent
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
      return core::fail(core::ErrorCode::internal, "cannot listen on " + host + ":" +
                                                       std::to_string(port) + ": " + ec.message());
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
    if (ec == asio::error::no_descriptors ||
        ec == boost::system::errc::too_many_files_open_in_system) {
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
  conn.remote = conn.stream.socket().remote_endpoint(ec).address();
  const bool over_limit = connections_.fetch_add(1) + 1 > limits_.max_connections;
  bool open = true;  // TLS: once the handshake succeeded
  if (conn.stream.is_tls()) open = co_await handshake(worker, conn);
  const bool tls_session = open && conn.stream.is_tls();
  Step step = open ? Step::next : Step::close;
  while (step == Step::next) {
    Incoming in;
    if (over_limit) {
      in.early =
          edge_problem(Status::service_unavailable, "too many connections; try again shortly");
      in.early->set(beast_http::field::retry_after, "1");
      step = Step::answer;
    } else {
      step = co_await read_request(worker, conn, in);
    }
    if (step == Step::answer) step = co_await answer(worker, conn, in);
  }
  co_await close_connection(worker, conn, tls_session, step);
  worker.live.erase(&conn);
  uncount(conn);
}

void Server::uncount(Connection& conn) {
  if (!std::exchange(conn.counted, false)) return;
  connections_.fetch_sub(1);
}

// Reads one request's head and, unless a stream handler takes it, its body. Where the request
// cannot be served (a limit, a malformed head) it decides the early answer instead.
asio::awaitable<Server::Step> Server::read_request(Worker& worker, Connection& conn, Incoming& in) {
  // The whole request head must arrive in time, so a slow client cannot hold a connection.
  // While draining, a connection accepted just before the listener closed gets a second for
  // its request; one that has been served goes (its client reconnects elsewhere).
  if (worker.draining && conn.served > 0) co_return Step::close;
  conn.deadline.expire_in(worker.draining ? 1 : limits_.header_timeout_s);
  conn.idle = true;
  auto [ec, head_bytes] = co_await read_head(conn);
  conn.idle = false;
  if (worker.draining && ec == asio::error::operation_aborted) co_return Step::close_idle;
  if (ec == beast_http::error::header_limit) {
    in.early =
        edge_problem(Status::request_header_fields_too_large, "request headers are too large");
    co_return Step::answer;
  }
  if (ec == beast_http::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == asio::error::eof || ec == asio::error::connection_reset)
    co_return Step::close;
  // A bad TLS record, or an alert from the client: no answer can go out.
  if (ec.category() == asio::error::get_ssl_category()) co_return Step::broken;
  if (ec)
    in.early = edge_problem(Status::bad_request, "malformed HTTP request");
  else
    parse_head(conn, in, head_bytes);
  if (in.early) co_return Step::answer;
  co_return co_await route_request(worker, conn, in, head_bytes);
}

// Reads until conn.buffer holds a whole request head (through its blank line) and returns its
// size. Beast's parser then gets the head whole, so a refused one can be parsed again
// (parse_head). Past header_limit_bytes only a request the gate may answer reads on, up to
// kLargeHeadCapBytes; any other gets header_limit at once, so it cannot make the server buffer
// the larger head.
asio::awaitable<Server::HeadRead> Server::read_head(Connection& conn) {
  const std::size_t cap = std::max(limits_.header_limit_bytes, kLargeHeadCapBytes);
  std::size_t searched = 0;      // the buffer's first bytes hold no head end
  std::optional<bool> large_ok;  // decided once, when the head outgrows the limit
  for (;;) {
    const std::string_view bytes(static_cast<const char*>(conn.buffer.data().data()),
                                 conn.buffer.size());
    const std::size_t end = find_head_end(bytes, searched);
    const std::size_t size = end == std::string_view::npos ? bytes.size() : end;
    if (size > limits_.header_limit_bytes) {
      if (!large_ok) large_ok = reads_large_head(bytes);
      if (!*large_ok || size > cap) co_return HeadRead{beast_http::error::header_limit, 0};
    }
    if (end != std::string_view::npos) co_return HeadRead{{}, end};
    searched = bytes.size() < 3 ? 0 : bytes.size() - 3;  // the end may straddle two reads
    const bool some = !bytes.empty();
    const std::size_t want =
        std::min(beast::read_size(conn.buffer, kReadSizeBytes), cap + 1 - bytes.size());
    auto [ec, n] =
        co_await conn.stream.async_read_some(conn.buffer.prepare(want), as_tuple(use_awaitable));
    conn.buffer.commit(n);
    if (ec == asio::error::eof)
      ec = some ? beast_http::error::partial_message : beast_http::error::end_of_stream;
    if (ec) co_return HeadRead{ec, 0};
  }
}

// Whether the request starting in `bytes` may have a head past header_limit_bytes: one for
// allow_large_heads()'s path, or one the proxy may serve (whose Host is not read yet, so
// route_request decides for sure).
bool Server::reads_large_head(std::string_view bytes) const {
  const std::optional<RequestLine> line = peek_request_line(bytes);
  if (!line) return false;
  const std::string_view path = split_target(line->target).first;
  if (path == large_head_path_) return true;
  if (!stream_handler_) return false;
  const Match m = router_.match(beast_http::string_to_verb(line->method), path);
  return !m.route && m.allow.empty() && !router_.guarded(path);
}

// Parses the head at the start of conn.buffer, then checks what RFC 9112 asks of it before
// anything is routed or read (http/request_head.hpp). A refusal becomes in.early.
void Server::parse_head(Connection& conn, Incoming& in, std::size_t head_bytes) const {
  auto new_parser = [&] {
    in.parser.emplace();
    // The head was bounded by read_head; what is left of this limit bounds chunked trailers.
    in.parser->header_limit(
        static_cast<std::uint32_t>(std::max(head_bytes, limits_.header_limit_bytes)));
    // A request for the stream handler (a proxied upload) may be of any size, so with one the
    // body limit is applied only once the head shows the request is Waitroom's own.
    if (stream_handler_)
      in.parser->body_limit(boost::none);
    else
      in.parser->body_limit(limits_.body_limit_bytes);
  };
  const std::string_view head(static_cast<const char*>(conn.buffer.data().data()), head_bytes);
  boost::system::error_code ec;
  new_parser();
  in.parser->put(asio::buffer(head.data(), head.size()), ec);
  if (ec == beast_http::error::bad_transfer_encoding ||
      ec == beast_http::error::bad_content_length ||
      ec == beast_http::error::multiple_content_length) {
    // Beast refuses Content-Length beside chunked, but RFC 9112 section 6.3 has
    // Transfer-Encoding win, and the connection close after the answer. Rare: a copy is fine.
    if (std::optional<std::string> framed = without_content_length(head)) {
      new_parser();
      ec = {};
      in.parser->put(asio::buffer(*framed), ec);
      in.close_after = true;
    }
  }
  conn.buffer.consume(head_bytes);
  Request& req = in.parser->get();
  std::optional<HeadRefusal> refusal;
  if (ec == beast_http::error::body_limit)
    in.early = edge_problem(Status::payload_too_large, "request body is too large");
  else if (ec || !in.parser->is_header_done())
    in.early = edge_problem(Status::bad_request, "malformed HTTP request");
  else if ((refusal = check_framing(req, req.version())) ||
           (refusal = check_host(req, req.version())))
    in.early = edge_problem(refusal->status, refusal->detail);
  else if (in.close_after)
    req.keep_alive(false);  // so every handler answers with Connection: close
}

// Routes a parsed head: hands it, with its connection, to a stream handler, or reads its body.
asio::awaitable<Server::Step> Server::route_request(Worker& worker, Connection& conn, Incoming& in,
                                                    std::size_t head_bytes) {
  const Request& req = in.parser->get();
  std::tie(in.path, in.query) = split_target(req.target());
  in.match = router_.match(req.method(), in.path);
  const Match& m = in.match;
  StreamHandler* streamer = nullptr;  // who takes the connection after the head, if anyone
  std::size_t stream_route = 0;
  if (m.route && m.route->stream) {
    // A streamed route of ours (Server-Sent Events); a guard's refusal is answered as an early
    // answer (asked once: guards log what they refuse).
    if (auto refused = router_.check_guards(req, in.path, conn.remote)) {
      in.early = std::move(*refused);
    } else {
      streamer = m.route->stream;
      stream_route = m.route->stream_route;
    }
  } else if (stream_handler_ && !m.route && m.allow.empty() && !router_.guarded(in.path)) {
    // Waitroom's own routes and guards always win; only what they leave goes to the handler.
    if (auto route = stream_handler_->match(header_value(req, "Host"), in.path)) {
      streamer = stream_handler_;
      stream_route = *route;
    }
  }
  // read_head let a head past the limit through for a path the gate might serve; now it is sure.
  const bool large_ok = in.path == large_head_path_ || (streamer && streamer == stream_handler_);
  if (head_bytes > limits_.header_limit_bytes && !large_ok) {
    in.early =
        edge_problem(Status::request_header_fields_too_large, "request headers are too large");
    co_return Step::answer;
  }
  if (streamer) co_return co_await hand_over(worker, conn, in, *streamer, stream_route);
  co_return co_await read_body(conn, in);
}

asio::awaitable<Server::Step> Server::hand_over(Worker& worker, Connection& conn, Incoming& in,
                                                StreamHandler& streamer, std::size_t stream_route) {
  conn.deadline.clear();
  StreamParser stream_parser{std::move(*in.parser)};  // the body is read piece by piece
  auto [stream_path, stream_query] = split_target(stream_parser.get().target());
  StreamExchange exchange{
      conn.stream, conn.buffer,  stream_parser, stream_path, stream_query,
      conn.remote, worker.index, conn.deadline, {},          [this, &conn] { uncount(conn); }};
  if (in.match.route)  // the captures, as views into the moved request's target
    exchange.params = router_.match(stream_parser.get().method(), stream_path).params;
  const bool again = co_await streamer.serve(stream_route, exchange);
  conn.deadline.clear();
  conn.deadline.also_cancel(nullptr);
  co_return again && !worker.draining && !in.close_after ? Step::next : Step::close;
}

asio::awaitable<Server::Step> Server::read_body(Connection& conn, Incoming& in) {
  RequestParser& parser = *in.parser;
  if (stream_handler_) {
    parser.body_limit(limits_.body_limit_bytes);  // Beast checks chunked bodies as they come
    if (auto length = parser.content_length(); length && *length > limits_.body_limit_bytes) {
      in.early = edge_problem(Status::payload_too_large, "request body is too large");
      co_return Step::answer;
    }
  }
  if (parser.is_done()) co_return Step::answer;
  conn.deadline.expire_in(limits_.body_timeout_s);
  auto [ec, n] =
      co_await beast_http::async_read(conn.stream, conn.buffer, parser, as_tuple(use_awaitable));
  if (ec == beast_http::error::body_limit)
    in.early = edge_problem(Status::payload_too_large, "request body is too large");
  else if (ec == asio::error::operation_aborted)
    in.early = edge_problem(Status::request_timeout, "request body arrived too slowly");
  else if (ec)
    co_return Step::close;
  co_return Step::answer;
}

// Answers the request (its early answer, or its route's) and writes the answer.
asio::awaitable<Server::Step> Server::answer(Worker& worker, Connection& conn, Incoming& in) {
  conn.deadline.clear();  // handlers may wait (e.g. for the disk)
  const auto started = std::chrono::steady_clock::now();
  std::size_t route_index = metrics_.unmatched_index();
  Response res;
  if (in.early) {
    res = std::move(*in.early);
  } else {
    const Request& req = in.parser->get();
    const Match& m = in.match;
    if (m.route) route_index = m.index;
    if (auto refused = router_.check_guards(req, in.path, conn.remote)) {
      res = std::move(*refused);
    } else if (m.route) {
      RequestContext ctx{req, std::move(in.match.params), in.path, in.query, conn.remote};
      res = co_await m.route->handler(ctx);
    } else if (!m.allow.empty()) {
      res = problem(req, Status::method_not_allowed,
                    "this path does not accept " + std::string(req.method_string()));
      res.set(beast_http::field::allow, m.allow);
    } else {
      res = problem(req, Status::not_found, "no such resource: " + std::string(in.path));
    }
    if (req.method() == Method::head) res.body().clear();  // Content-Length stays the GET's
  }
  metrics_.observe(
      route_index, res.result_int(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  // Draining tells the client to reconnect elsewhere.
  if (worker.draining || in.close_after) res.keep_alive(false);
  if (!strict_transport_security_.empty())
    res.set(beast_http::field::strict_transport_security, strict_transport_security_);
  const bool keep_alive = res.keep_alive();
  serialize_response(res, conn.wire);
  conn.deadline.expire_in(kWriteTimeoutS);
  auto [ec, n] =
      co_await asio::async_write(conn.stream, asio::buffer(conn.wire), as_tuple(use_awaitable));
  ++conn.served;
  if (ec) co_return Step::broken;
  co_return keep_alive ? Step::next : Step::close;
}

asio::awaitable<void> Server::close_connection(Worker& worker, Connection& conn, bool tls_session,
                                               Step how) {
  // TLS: close_notify first, so the client knows it has the whole answer (unless the connection
  // broke). Then the same lingering close as for plain HTTP, the client's TLS records dropped
  // unread.
  if (tls_session && how != Step::broken && conn.stream.is_tls()) {
    conn.deadline.expire_in(kLingerTimeoutS);
    co_await conn.stream.async_send_close_notify(as_tuple(use_awaitable));
  }
  // Lingering close: after our answer, read and drop what the client is still sending (e.g. the
  // rest of a body we refused) for a moment, so that closing does not reset the connection
  // before the client has read the answer. (A stream handler that took the socket closes it.)
  tcp::socket& tcp_socket = conn.stream.socket();
  boost::system::error_code ec;
  tcp_socket.shutdown(tcp::socket::shutdown_send, ec);
  conn.deadline.expire_in(kLingerTimeoutS);
  const bool linger = how != Step::close_idle;
  for (std::size_t drained = 0; linger && tcp_socket.is_open() && drained < kLingerMaxBytes;) {
    auto [ec4, n4] =
        co_await tcp_socket.async_read_some(asio::buffer(worker.discard), as_tuple(use_awaitable));
    if (ec4) break;
    drained += n4;
  }
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
