#pragma once
// A way for a request to leave the server's read-whole-body-then-answer loop: after the request
// head, a request may be handed, with its connection, to a StreamHandler that reads the body and
// writes the answer itself, piece by piece, for as long as it needs. Two kinds use it, and http/
// knows only this interface:
// - the server's fallback handler gets what no route of the Router serves and no guard covers
//   (the built-in reverse proxy, gate/reverse_proxy);
// - a Router route added with add_stream() gets its own requests once the guards let them through
//   (Server-Sent Events, api/event_streams).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "http/message.hpp"

namespace waitroom::http {

using StreamParser = beast_http::request_parser<beast_http::buffer_body>;
class Transport;  // http/transport.hpp: the client's connection, plain or TLS

// When a connection's current read or write must be done. The server's watchdog looks once a
// second and, past the deadline, cancels the connection's socket and `also_cancel` (e.g. the
// upstream connection a proxied request waits on), whose pending operations then end with
// operation_aborted. So timeouts cost no timer per operation and are accurate to about a second.
class Deadline {
 public:
  static constexpr std::uint64_t kNone = UINT64_MAX;
  explicit Deadline(const std::uint64_t& now_tick) : now_tick_(now_tick) {}
  void expire_in(std::int64_t seconds) {
    // +1: a deadline set just before a tick must still get its full time.
    tick_ = now_tick_ + static_cast<std::uint64_t>(seconds) + 1;
  }
  void clear() { tick_ = kNone; }
  bool passed() const { return tick_ <= now_tick_; }
  void also_cancel(boost::asio::ip::tcp::socket* other) { also_cancel_ = other; }
  boost::asio::ip::tcp::socket* also_cancelled() const { return also_cancel_; }

 private:
  const std::uint64_t& now_tick_;  // the I/O thread's clock, in seconds, moved by the watchdog
  std::uint64_t tick_ = kNone;
  boost::asio::ip::tcp::socket* also_cancel_ = nullptr;
};

// A request handed over after its head: the body (if any) is still to be read through `parser`
// from `buffer` and `client`. Everything here lives as long as the connection.
struct StreamExchange {
  Transport& client;
  boost::beast::flat_buffer& buffer;  // bytes read past the head: body, pipelined requests
  StreamParser& parser;               // head parsed, no body read yet
  std::string_view path;              // target without the query string
  std::string_view query;
  boost::asio::ip::address remote;  // the TCP peer
  std::size_t worker;               // which I/O thread: index for per-thread state (no locks)
  Deadline& deadline;
  RouteParams params;  // a Router route's captures (views into `path`); empty for the fallback
  // A handler that moves `client` out calls this before it writes anything more to it: from then
  // on the connection no longer counts against max_connections (the client may open its next
  // connection as soon as it reads what the handler writes).
  std::function<void()> release;
};

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Called once before the I/O threads start, with their number.
  virtual void prepare(std::size_t workers) = 0;
  // As the server's fallback: which of the handler's routes serves this Host header and path;
  // nullopt: none. (A handler serving only Router routes answers nullopt.)
  virtual std::optional<std::size_t> match(std::string_view host, std::string_view path) const = 0;
  // Serves one request: reads its body, writes the whole answer, and returns whether the client
  // connection may carry another request. It clears any deadline it set before returning.
  // It may instead move `exchange.client` out to go on with the connection on its own (on the
  // same I/O thread) after returning false: it calls `exchange.release()` first, the server then
  // forgets the connection, which no longer counts against max_connections, and the handler
  // closes it and keeps its deadlines.
  // (Under TLS the moved Transport carries its TLS session along.)
  virtual boost::asio::awaitable<bool> serve(std::size_t route, StreamExchange& exchange) = 0;
};

}  // namespace waitroom::http
