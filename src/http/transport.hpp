#pragma once
// A client connection's byte stream: the TCP socket itself, or TLS over it ([tls]): the shared
// net::ByteStream, plus the server side of TLS. The request loop, Server-Sent Events and the proxy
// are written once against it.
#include <openssl/ssl.h>

#include <memory>
#include <utility>

#include "http/tls_context.hpp"
#include "net/byte_stream.hpp"

namespace waitroom::http {

class Transport : public net::ByteStream {
 public:
  // Plain HTTP over `socket`.
  explicit Transport(tcp::socket socket) : ByteStream(std::move(socket)) {}
  // TLS over `socket` with `context`'s certificate, which this connection keeps for its lifetime
  // (a reload gives new connections a new one). async_handshake() comes first.
  Transport(tcp::socket socket, std::shared_ptr<TlsContext> context)
      : ByteStream(std::move(socket), context->asio_context(), context) {}
  // Not connected yet: a place to move a connection into later.
  explicit Transport(const executor_type& executor) : ByteStream(executor) {}

  // TLS only: the server side of the handshake.
  template <class Token>
  auto async_handshake(Token&& token) {
    return tls().async_handshake(boost::asio::ssl::stream_base::server, std::forward<Token>(token));
  }

  // TLS only: sends close_notify, without waiting for the client's (RFC 8446 section 6.1 lets
  // the side that closes go at once), so a close never waits on the client. OpenSSL's shutdown
  // would wait for the client's close_notify; marking it as received already makes it send only.
  template <class Token>
  auto async_send_close_notify(Token&& token) {
    SSL* ssl = tls().native_handle();
    ::SSL_set_shutdown(ssl, ::SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
    return tls().async_shutdown(std::forward<Token>(token));
  }
};

}  // namespace waitroom::http
