#include "http/transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <string>

#include "testing/temp_dir.hpp"
#include "testing/test_certificates.hpp"

namespace waitroom::http {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::as_tuple;
using asio::use_awaitable;

struct Seen {
  std::string by_server;
  std::string by_client;
  std::string alpn;
  boost::system::error_code client_end;  // how the client's last read ended
};

// The server side as the HTTP server and a stream handler use it: handshake, read, then the
// connection moves to a new owner (the event streams do that), writes and closes.
asio::awaitable<void> serve_one(tcp::acceptor& acceptor, std::shared_ptr<TlsContext> tls,
                                Seen& seen) {
  tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
  Transport server = tls ? Transport(std::move(socket), tls) : Transport(std::move(socket));
  if (tls) co_await server.async_handshake(use_awaitable);
  std::string buf(5, '\0');
  co_await asio::async_read(server, asio::buffer(buf), use_awaitable);
  seen.by_server = buf;
  Transport moved(server.get_executor());
  moved = std::move(server);
  const std::string answer = "world";
  co_await asio::async_write(moved, asio::buffer(answer), use_awaitable);
  if (moved.is_tls()) co_await moved.async_send_close_notify(use_awaitable);
}

template <class ClientStream>
asio::awaitable<void> talk(ClientStream& client, Seen& seen) {
  co_await asio::async_write(client, asio::buffer(std::string_view("hello")), use_awaitable);
  std::string buf(5, '\0');
  co_await asio::async_read(client, asio::buffer(buf), use_awaitable);
  seen.by_client = buf;
  char more = 0;
  auto [ec, n] = co_await client.async_read_some(asio::buffer(&more, 1), as_tuple(use_awaitable));
  seen.client_end = ec;
}

asio::awaitable<void> tls_client(ssl::stream<tcp::socket>& client, tcp::endpoint server,
                                 Seen& seen) {
  co_await client.next_layer().async_connect(server, use_awaitable);
  co_await client.async_handshake(ssl::stream_base::client, use_awaitable);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  ::SSL_get0_alpn_selected(client.native_handle(), &alpn, &alpn_length);
  seen.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  co_await talk(client, seen);
}

asio::awaitable<void> plain_client(tcp::socket& client, tcp::endpoint server, Seen& seen) {
  co_await client.async_connect(server, use_awaitable);
  co_await talk(client, seen);
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

TEST(Transport, CarriesBytesOverTlsAcrossAMoveAndClosesWithCloseNotify) {
  waitroom::testing::TempDir dir;
  const auto cert = waitroom::testing::make_test_certificate("localhost", 1);
  waitroom::testing::write_file(dir.path() / "cert.pem", cert.cert_pem);
  waitroom::testing::write_file(dir.path() / "key.pem", cert.key_pem);
  auto tls = TlsContext::load(dir.path() / "cert.pem", dir.path() / "key.pem");
  ASSERT_TRUE(tls) << tls.error().detail;

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  ssl::context client_ctx(ssl::context::tls_client);  // no verification: a test certificate
  const unsigned char offer[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  ::SSL_CTX_set_alpn_protos(client_ctx.native_handle(), offer, sizeof offer);
  ssl::stream<tcp::socket> client(io, client_ctx);
  Seen seen;
  asio::co_spawn(io, serve_one(acceptor, *tls, seen), rethrow);
  asio::co_spawn(io, tls_client(client, acceptor.local_endpoint(), seen), rethrow);
  io.run();
  EXPECT_EQ(seen.by_server, "hello");
  EXPECT_EQ(seen.by_client, "world");
  EXPECT_EQ(seen.alpn, "http/1.1");
  EXPECT_EQ(seen.client_end, asio::error::eof)
      << "close_notify, not a truncated stream: " << seen.client_end.message();
}

TEST(Transport, PlainIsTheSocketItself) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  Seen seen;
  asio::co_spawn(io, serve_one(acceptor, nullptr, seen), rethrow);
  asio::co_spawn(io, plain_client(client, acceptor.local_endpoint(), seen), rethrow);
  io.run();
  EXPECT_EQ(seen.by_server, "hello");
  EXPECT_EQ(seen.by_client, "world");
  EXPECT_EQ(seen.client_end, asio::error::eof);
}

}  // namespace
}  // namespace waitroom::http
