#include "testing/test_http_server.hpp"

#include <strings.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <thread>

namespace waitroom::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::string_view kEarlyHints = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";

TestRequest to_test_request(const http::request<http::string_body>& req) {
  TestRequest out{std::string(req.method_string()), std::string(req.target()), {}, req.body()};
  for (const auto& field : req)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return out;
}

// One connection: read a request, answer as the handler says, and read the next.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  Session(const TestHandler& handler, tcp::socket socket, ssl::context* tls)
      : handler_(handler), stream_(make_stream(std::move(socket), tls)) {}

  void start() {
    if constexpr (kTls) {
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    } else {
      read();
    }
  }

 private:
  static Stream make_stream(tcp::socket socket, ssl::context* tls) {
    if constexpr (kTls)
      return Stream(std::move(socket), *tls);
    else
      return Stream(std::move(socket));
  }

  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->on_request();
                     });
  }

  void on_request() {
    const auto answer = handler_(to_test_request(req_));
    if (!answer) {
      read();  // silent: the pending read holds the connection until the client gives up
      return;
    }
    answer_ = *answer;
    res_ = {static_cast<http::status>(answer_.status), req_.version()};
    if (!answer_.content_type.empty()) res_.set(http::field::content_type, answer_.content_type);
    res_.body() = answer_.body;
    res_.keep_alive(answer_.keep_alive && req_.keep_alive());
    res_.prepare_payload();
    if (!answer_.early_hints) return write();
    asio::async_write(stream_, asio::buffer(kEarlyHints),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (!ec) self->write();
                      });
  }

  void write() {
    http::async_write(stream_, res_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        auto& socket = beast::get_lowest_layer(self->stream_).socket();
                        if (self->answer_.close_after) return socket.close(ec);
                        if (!self->res_.keep_alive())
                          return void(socket.shutdown(tcp::socket::shutdown_both, ec));
                        self->read();
                      });
  }

  const TestHandler& handler_;
  Stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  TestAnswer answer_;
  http::response<http::string_body> res_;
};

}  // namespace

std::string TestRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  return {};
}

struct TestHttpServer::Impl {
  Impl(TestHandler h, std::uint16_t port, const std::optional<Tls>& tls_files)
      : handler(std::move(h)),
        acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)) {
    if (tls_files) {
      tls.emplace(ssl::context::tls_server);
      tls->use_certificate_chain(asio::buffer(tls_files->cert_pem));
      tls->use_private_key(asio::buffer(tls_files->key_pem), ssl::context::pem);
    }
    accept();
    thread = std::thread([this] { ioc.run(); });
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections;
      socket.set_option(tcp::no_delay(true), ec);  // answers are small writes: no Nagle delay
      if (tls) {
        using Tls = beast::ssl_stream<beast::tcp_stream>;
        std::make_shared<Session<Tls>>(handler, std::move(socket), &*tls)->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(handler, std::move(socket), nullptr)->start();
      }
      accept();
    });
  }

  TestHandler handler;
  asio::io_context ioc{1};
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  std::atomic<int> connections{0};
  std::thread thread;
};

TestHttpServer::TestHttpServer(TestHandler handler, std::uint16_t port, std::optional<Tls> tls)
    : impl_(std::make_unique<Impl>(std::move(handler), port, tls)) {}

TestHttpServer::~TestHttpServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t TestHttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }
bool TestHttpServer::tls() const { return impl_->tls.has_value(); }
int TestHttpServer::connections() const { return impl_->connections; }

std::string TestHttpServer::url(std::string_view path, std::string_view host) const {
  return (tls() ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port()) +
         std::string(path);
}

std::uint16_t refused_port() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace waitroom::testing
