#pragma once
// The byte stream to one Redis server: TCP, or TLS over it for rediss://. One type for both, so
// the connection and the subscriber are written once against it (Asio's read and write
// algorithms take it like a socket): the shared net::ByteStream, plus the client side of TLS and
// the connect.
//
// Time limits: none of the operations has its own. A StreamDeadline closes the stream when its
// time is up, which fails whatever is pending on it (resolve, connect, handshake, read, write);
// one timer bounds a series of steps that way, with no per-operation cancellation.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "net/byte_stream.hpp"
#include "store/redis/redis_url.hpp"

namespace waitroom::store::redis {

// A TLS client context for rediss://: TLS 1.2 or later, the server's certificate checked against
// the CAs in `ca_file` (empty: the system's default CA paths). Fails (unavailable) when the CA
// file cannot be loaded.
core::Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(
    const std::string& ca_file);

class RedisStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  // Plain TCP when `tls` is null; TLS with that context otherwise (kept for the stream's life).
  RedisStream(const executor_type& ex, std::shared_ptr<boost::asio::ssl::context> tls);
  RedisStream(const RedisStream&) = delete;
  RedisStream& operator=(const RedisStream&) = delete;

  // Resolves url.host, connects to the first of its addresses that accepts, and for TLS completes
  // the handshake: SNI names the host, and the certificate must be valid for it (a DNS name, or
  // an IP address in its subjectAltName) and chain to a trusted CA. Fails with unavailable.
  boost::asio::awaitable<core::Result<void>> connect(const RedisUrl& url);

  // Ends the connection at once: every pending operation completes with an error. Idempotent.
  void close();
  // close() by a StreamDeadline: the reason an operation failed was time.
  void expire() {
    expired_ = true;
    close();
  }
  bool expired() const { return expired_; }

  executor_type get_executor() { return stream_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return stream_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return stream_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  tcp::resolver resolver_;
  net::ByteStream stream_;  // TLS with the context given, which it keeps
  bool expired_ = false;
};

// Closes `stream` (RedisStream::expire) if `timeout` passes before this is destroyed.
class StreamDeadline {
 public:
  StreamDeadline(std::shared_ptr<RedisStream> stream, std::chrono::steady_clock::duration timeout);
  ~StreamDeadline();
  StreamDeadline(const StreamDeadline&) = delete;
  StreamDeadline& operator=(const StreamDeadline&) = delete;

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace waitroom::store::redis
