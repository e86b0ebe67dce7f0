#pragma once
// A client connection's byte stream: the TCP socket itself, or TLS over it ([tls]). One type for
// both, so the request loop, Server-Sent Events and the proxy are written once against it (Beast's
// and Asio's read and write algorithms take it like a socket). The plain path is the hot one and
// costs a branch per operation: no allocation, no virtual call. TLS costs one allocation per
// connection (the OpenSSL session and its buffers), next to its handshake.
#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <utility>

#include "http/tls_context.hpp"

namespace waitroom::http {

class Transport {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;

  // Plain HTTP over `socket`.
  explicit Transport(tcp::socket socket) : plain_(std::move(socket)) {}
  // TLS over `socket` with `context`'s certificate, which this connection keeps for its lifetime
  // (a reload gives new connections a new one). async_handshake() comes first.
  Transport(tcp::socket socket, std::shared_ptr<TlsContext> context)
      : plain_(socket.get_executor()),
        tls_(std::make_unique<Tls>(std::move(socket), std::move(context))) {}
  // Not connected yet: a place to move a connection into later.
  explicit Transport(const executor_type& executor) : plain_(executor) {}
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;

  bool is_tls() const { return tls_ != nullptr; }
  // The TCP connection underneath, for what is not a read or a write of the byte stream: cancel,
  // shutdown, close, options, the peer's address. (Bytes read from it directly bypass TLS.)
  tcp::socket& socket() { return tls_ ? tls_->stream.next_layer() : plain_; }
  executor_type get_executor() { return socket().get_executor(); }

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

  // TLS only: the server side of the handshake.
  template <class Token>
  auto async_handshake(Token&& token) {
    return tls_->stream.async_handshake(boost::asio::ssl::stream_base::server,
                                        std::forward<Token>(token));
  }

  // TLS only: sends close_notify, without waiting for the client's (RFC 8446 section 6.1 lets
  // the side that closes go at once), so a close never waits on the client. OpenSSL's shutdown
  // would wait for the client's close_notify; marking it as received already makes it send only.
  template <class Token>
  auto async_send_close_notify(Token&& token) {
    SSL* ssl = tls_->stream.native_handle();
    ::SSL_set_shutdown(ssl, ::SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
    return tls_->stream.async_shutdown(std::forward<Token>(token));
  }

 private:
  struct Tls {
    Tls(tcp::socket socket, std::shared_ptr<TlsContext> ctx)
        : context(std::move(ctx)), stream(std::move(socket), context->asio_context()) {}
    std::shared_ptr<TlsContext> context;  // outlives `stream`, which was made from it
    boost::asio::ssl::stream<tcp::socket> stream;
  };
  tcp::socket plain_;  // the connection when plain; unused (never opened) under TLS
  std::unique_ptr<Tls> tls_;
};

}  // namespace waitroom::http
