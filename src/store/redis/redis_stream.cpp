#include "store/redis/redis_stream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace waitroom::store::redis {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::as_tuple;
using asio::use_awaitable;

core::Result<std::shared_ptr<ssl::context>> make_tls_context(const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  ::SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty())
    context->set_default_verify_paths(ec);
  else
    context->load_verify_file(ca_file, ec);
  if (ec)
    return core::fail(
        core::ErrorCode::unavailable,
        "cannot load the CA certificates for Redis TLS from " +
            (ca_file.empty() ? std::string("the system's default paths") : "\"" + ca_file + "\"") +
            ": " + ec.message(),
        1);
  return context;
}

RedisStream::RedisStream(const executor_type& ex, std::shared_ptr<ssl::context> tls)
    : resolver_(ex),
      stream_(tls ? net::ByteStream(tcp::socket(ex), *tls, tls) : net::ByteStream(ex)) {}

asio::awaitable<core::Result<void>> RedisStream::connect(const RedisUrl& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  const std::string where =
      (ipv6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  const std::string service = std::to_string(url.port);
  auto [resolve_ec, endpoints] =
      co_await resolver_.async_resolve(url.host, service, as_tuple(use_awaitable));
  if (resolve_ec)
    co_return core::fail(core::ErrorCode::unavailable,
                         "cannot resolve Redis host " + url.host + ": " + resolve_ec.message(), 1);
  auto [connect_ec, endpoint] =
      co_await asio::async_connect(stream_.socket(), endpoints, as_tuple(use_awaitable));
  if (connect_ec)
    co_return core::fail(core::ErrorCode::unavailable,
                         "cannot connect to Redis at " + where + ": " + connect_ec.message(), 1);
  boost::system::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);  // pipelined commands go out at once
  // Lets the kernel notice a peer that vanished without a word (a reply timeout does too, but
  // only while a command is waiting).
  stream_.socket().set_option(asio::socket_base::keep_alive(true), ignored);
  if (!stream_.is_tls()) co_return core::Result<void>{};

  SSL* ssl = stream_.tls().native_handle();
  boost::system::error_code not_ip;
  asio::ip::make_address(url.host, not_ip);
  if (not_ip) {
    ::SSL_set_tlsext_host_name(ssl, url.host.c_str());
    ::SSL_set1_host(ssl, url.host.c_str());
  } else {
    // SNI carries names only; an address must appear as an IP entry in the certificate.
    ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), url.host.c_str());
  }
  auto [handshake_ec] =
      co_await stream_.tls().async_handshake(ssl::stream_base::client, as_tuple(use_awaitable));
  if (handshake_ec) {
    std::string why = handshake_ec.message();
    if (const long verify = ::SSL_get_verify_result(ssl); verify != X509_V_OK)
      why += std::string(" (") + ::X509_verify_cert_error_string(verify) + ")";
    co_return core::fail(core::ErrorCode::unavailable,
                         "TLS handshake with Redis at " + where + " failed: " + why, 1);
  }
  co_return core::Result<void>{};
}

void RedisStream::close() {
  resolver_.cancel();
  boost::system::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

StreamDeadline::StreamDeadline(std::shared_ptr<RedisStream> stream,
                               std::chrono::steady_clock::duration timeout)
    : timer_(stream->get_executor(), timeout) {
  timer_.async_wait([stream = std::move(stream)](boost::system::error_code ec) {
    if (!ec) stream->expire();
  });
}

StreamDeadline::~StreamDeadline() { timer_.cancel(); }

}  // namespace waitroom::store::redis
