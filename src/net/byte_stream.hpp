#pragma once
// A connection's byte stream: the TCP socket itself, or TLS over it. One type for both, so what
// reads and writes a connection is written once against it (Beast's and Asio's read and write
// algorithms take it like a socket). The server's connections (http::Transport, TLS server side)
// and the Redis store's (RedisStream, TLS client side) are both this, plus their own handshake.
//
// The plain path is the hot one and costs a branch per operation: no allocation, no virtual call.
// TLS costs one allocation per connection (the OpenSSL session and its buffers), next to its
// handshake.
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <utility>

namespace waitroom::net {

class ByteStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  // Plain TCP over `socket`.
  explicit ByteStream(tcp::socket socket) : plain_(std::move(socket)) {}
  // TLS over `socket` with `context`, which `keep_alive` keeps for the stream's life (it owns the
  // context, or what holds it). The handshake is the owner's to make, through tls().
  ByteStream(tcp::socket socket, boost::asio::ssl::context& context,
             std::shared_ptr<const void> keep_alive)
      : plain_(socket.get_executor()),
        tls_(std::make_unique<Tls>(std::move(socket), context, std::move(keep_alive))) {}
  // Not connected yet: a place to move a connection into later.
  explicit ByteStream(const executor_type& executor) : plain_(executor) {}
  ByteStream(ByteStream&&) noexcept = default;
  ByteStream& operator=(ByteStream&&) noexcept = default;

  bool is_tls() const { return tls_ != nullptr; }
  // The TCP connection underneath, for what is not a read or a write of the byte stream: connect,
  // cancel, shutdown, close, options, the peer's address. (Bytes read from it bypass TLS.)
  tcp::socket& socket() { return tls_ ? tls_->stream.next_layer() : plain_; }
  executor_type get_executor() { return socket().get_executor(); }
  // TLS only: the OpenSSL stream, for the handshake and the shutdown.
  boost::asio::ssl::stream<tcp::socket>& tls() { return tls_->stream; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (tls_)
            tls_->stream.async_read_some(b, std::move(handler));
          else
            plain_.async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (tls_)
            tls_->stream.async_write_some(b, std::move(handler));
          else
            plain_.async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

 private:
  struct Tls {
    Tls(tcp::socket socket, boost::asio::ssl::context& context, std::shared_ptr<const void> owner)
        : keep_alive(std::move(owner)), stream(std::move(socket), context) {}
    std::shared_ptr<const void> keep_alive;  // outlives `stream`, which was made from its context
    boost::asio::ssl::stream<tcp::socket> stream;
  };
  tcp::socket plain_;  // the connection when plain; unused (never opened) under TLS
  std::unique_ptr<Tls> tls_;
};

}  // namespace waitroom::net
