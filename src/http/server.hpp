#pragma once
// The HTTP/1.1 server: one io_context per thread, each with its own SO_REUSEPORT acceptor, and
// one coroutine per connection that reads a request, routes it and writes the answer in a loop.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "config/server_config.hpp"
#include "core/error.hpp"
#include "http/router.hpp"
#include "http/stream_handler.hpp"
#include "http/tls_context.hpp"
#include "ops/http_metrics.hpp"

namespace waitroom::http {

class Server {
 public:
  Server(const config::Limits& limits, const Router& router, ops::HttpMetrics& metrics);
  ~Server();

  // Binds host:port (port 0 picks one) on `threads` io_contexts. Returns the bound port.
  core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port, unsigned threads);
  // Requests no route serves may go to `handler` (the built-in proxy); set before start().
  void set_stream_handler(StreamHandler* handler) { stream_handler_ = handler; }
  // Serves HTTPS instead of HTTP ([tls]): each new connection takes `tls`'s current context, and
  // every answer carries `strict_transport_security` when it is not empty. Set before start().
  void set_tls(std::shared_ptr<CurrentTlsContext> tls, std::string strict_transport_security) {
    tls_ = std::move(tls);
    strict_transport_security_ = std::move(strict_transport_security);
  }
  // Requests for `path` may have heads past header_limit_bytes, up to a hard cap (64 KiB, or that
  // limit if larger), like those the stream handler serves. For a handler that reads what it can
  // of an oversized head (the gate) rather than wanting a 431. Set before start().
  void allow_large_heads(std::string path) { large_head_path_ = std::move(path); }
  // Runs the io_contexts on their threads until stop(); returns at once.
  void start();
  // Graceful stop: closes the listeners, closes idle keep-alive connections, lets requests in
  // flight finish (each answered with Connection: close), and stops once none is left or
  // `deadline` has passed. Returns whether every request finished in time.
  bool drain(std::chrono::milliseconds deadline);
  void stop();
  void join();

 private:
  struct Worker;
  struct Connection;
  struct Incoming;                  // one request on its way through the loop
  enum class Step : unsigned char;  // what the loop does next
  using HeadRead = std::pair<boost::system::error_code, std::size_t>;
  boost::asio::awaitable<void> accept_loop(Worker& worker);
  // Once a second: cancels the reads and writes that passed their deadline.
  boost::asio::awaitable<void> watchdog(Worker& worker);
  // One connection: read a request, answer it, repeat while keep-alive.
  boost::asio::awaitable<void> serve_connection(Worker& worker,
                                                boost::asio::ip::tcp::socket socket);
  // A TLS connection's handshake, within the time a request head gets. False: no TLS session
  // (the client left, spoke plain HTTP and got a 400, or failed the handshake).
  boost::asio::awaitable<bool> handshake(Worker& worker, Connection& conn);
  // The steps of one request, in order (server.cpp says what each guarantees).
  boost::asio::awaitable<Step> read_request(Worker& worker, Connection& conn, Incoming& in);
  boost::asio::awaitable<HeadRead> read_head(Connection& conn);
  bool reads_large_head(std::string_view bytes) const;
  void parse_head(Connection& conn, Incoming& in, std::size_t head_bytes) const;
  boost::asio::awaitable<Step> route_request(Worker& worker, Connection& conn, Incoming& in,
                                             std::size_t head_bytes);
  boost::asio::awaitable<Step> hand_over(Worker& worker, Connection& conn, Incoming& in,
                                         StreamHandler& streamer, std::size_t stream_route);
  boost::asio::awaitable<Step> read_body(Connection& conn, Incoming& in);
  boost::asio::awaitable<Step> answer(Worker& worker, Connection& conn, Incoming& in);
  // The connection stops counting against max_connections (closed, or taken by a stream).
  void uncount(Connection& conn);
  boost::asio::awaitable<void> close_connection(Worker& worker, Connection& conn, bool tls_session,
                                                Step how);
  config::Limits limits_;
  const Router& router_;
  ops::HttpMetrics& metrics_;
  StreamHandler* stream_handler_ = nullptr;
  std::string large_head_path_;             // allow_large_heads()
  std::shared_ptr<CurrentTlsContext> tls_;  // null: plain HTTP
  std::string strict_transport_security_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> connections_{0};
};

}  // namespace waitroom::http
