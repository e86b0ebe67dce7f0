#include "http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>

#include "http/problem.hpp"
#include "ops/log.hpp"

namespace waitroom::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

namespace {
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr int kListenBacklog = 4096;

// Answers without a handler (parse errors, limits): always closes the connection afterwards.
Response edge_problem(Status status, std::string_view detail) {
  Request req;
  req.version(11);
  req.keep_alive(false);
  return problem(req, status, detail);
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}
}  // namespace

struct Server::Worker {
  asio::io_context ctx{1};
  std::optional<tcp::acceptor> acceptor;
};

Server::Server(const config::Limits& limits, const Router& router, ops::HttpMetrics& metrics)
    : limits_(limits), router_(router), metrics_(metrics) {}

Server::~Server() {
  stop();
  join();
}

asio::io_context& Server::context(std::size_t i) { return workers_.at(i)->ctx; }

core::Result<std::uint16_t> Server::listen(const std::string& host, std::uint16_t port,
                                           unsigned threads) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return core::fail(core::ErrorCode::bad_request, "listen: bad address " + host);
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
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
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. EMFILE: keep accepting once descriptors free up
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(worker.ctx, serve_connection(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::serve_connection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  boost::system::error_code ec;
  const auto remote = stream.socket().remote_endpoint(ec).address();
  const bool over_limit = connections_.fetch_add(1) + 1 > limits_.max_connections;
  beast::flat_buffer buffer;
  for (;;) {
    std::optional<Response> early;  // an answer decided before routing
    beast_http::request_parser<beast_http::string_body> parser;
    if (over_limit) {
      early = edge_problem(Status::service_unavailable, "too many connections; try again shortly");
      early->set(beast_http::field::retry_after, "1");
    } else {
      parser.header_limit(static_cast<std::uint32_t>(limits_.header_limit_bytes));
      parser.body_limit(limits_.body_limit_bytes);
      // The whole request head must arrive in time, so a slow client cannot hold a connection.
      stream.expires_after(std::chrono::seconds(limits_.header_timeout_s));
      auto [ec1, n1] = co_await beast_http::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
      if (ec1 == beast_http::error::header_limit) {
        early = edge_problem(Status::request_header_fields_too_large, "request headers are too large");
      } else if (ec1 == beast_http::error::body_limit) {
        early = edge_problem(Status::payload_too_large, "request body is too large");
      } else if (ec1 == beast_http::error::end_of_stream || ec1 == beast::error::timeout ||
                 ec1 == asio::error::eof || ec1 == asio::error::connection_reset) {
        break;
      } else if (ec1) {
        early = edge_problem(Status::bad_request, "malformed HTTP request");
      } else {
        stream.expires_after(std::chrono::seconds(limits_.body_timeout_s));
        auto [ec2, n2] = co_await beast_http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
        if (ec2 == beast_http::error::body_limit)
          early = edge_problem(Status::payload_too_large, "request body is too large");
        else if (ec2 == beast::error::timeout)
          early = edge_problem(Status::request_timeout, "request body arrived too slowly");
        else if (ec2)
          break;
      }
    }

    const auto started = std::chrono::steady_clock::now();
    std::size_t route_index = metrics_.unmatched_index();
    Response res;
    if (early) {
      res = std::move(*early);
    } else {
      const Request& req = parser.get();
      auto [path, query] = split_target(req.target());
      Match m = router_.match(req.method(), path);
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
      if (req.method() == Method::head) {
        res.body().clear();
        res.prepare_payload();
      }
    }
    metrics_.observe(route_index, res.result_int(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    const bool keep_alive = res.keep_alive();
    stream.expires_after(kWriteTimeout);
    auto [ec3, n3] = co_await beast_http::async_write(stream, res, as_tuple(use_awaitable));
    if (ec3 || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  connections_.fetch_sub(1);
}

void Server::start() {
  for (auto& w : workers_) asio::co_spawn(w->ctx, accept_loop(*w), asio::detached);
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
