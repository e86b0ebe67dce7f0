#include "net/http_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "net/client_tls.hpp"
#include "net/name_lookup.hpp"

namespace waitroom::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;

constexpr unsigned kHttpVersion11 = 11;
constexpr unsigned kSwitchingProtocols = 101;

ClientError failure(std::string step, const beast::error_code& ec) {
  const bool timed_out = ec == beast::error::timeout;
  return {std::move(step), timed_out ? std::string("timed out") : ec.message(), timed_out};
}

Request make_request(const HttpUrl& url, const ClientRequest& in, bool keep_alive) {
  Request req{http::string_to_verb(in.method), url.target, kHttpVersion11};
  req.set(http::field::host, url.host_header);
  for (const auto& [name, value] : in.headers) req.set(name, value);
  if (!in.body.empty() || req.method() == http::verb::post) {
    req.body() = in.body;
    req.prepare_payload();
  }
  req.keep_alive(keep_alive);
  return req;
}

}  // namespace

// One connection, driven synchronously by the caller's thread: each step starts one asynchronous
// operation and runs the private io_context until it completes. Going through the async API is
// what gives every step a deadline (tcp_stream::expires_at, and the lookup's own wait) and lets
// abort() cancel a step from another thread.
struct HttpClient::Connection {
  asio::io_context ioc{1};
  std::optional<ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::atomic<bool> aborted{false};
  NameLookup lookup;  // on its own thread, which abort() wakes

  bool connected() const { return plain || secure; }

  void close() {
    if (plain) plain->close();
    if (secure) secure->next_layer().close();
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  // Starts one operation with `start(handler)` and runs the io_context until its handler ran.
  template <class Start>
  beast::error_code wait(Start&& start) {
    if (aborted) return asio::error::operation_aborted;
    std::optional<beast::error_code> result;
    start([&result](const beast::error_code& ec, auto&&...) { result = ec; });
    ioc.restart();
    while (!result && ioc.run_one() != 0) {
    }
    return result.value_or(asio::error::operation_aborted);
  }

  beast::error_code resolve(const HttpUrl& url, SteadyClock::time_point deadline,
                            std::vector<tcp::endpoint>& out) {
    const beast::error_code ec = lookup.resolve(url.host, url.port, deadline, aborted, out);
    return ec == asio::error::timed_out ? beast::error_code(beast::error::timeout) : ec;
  }

  std::expected<void, ClientError> connect(const HttpUrl& url, SteadyClock::time_point deadline) {
    close();
    std::vector<tcp::endpoint> endpoints;
    if (const auto ec = resolve(url, deadline, endpoints))
      return std::unexpected(failure("cannot resolve " + url.host, ec));
    beast::tcp_stream& stream = tls ? secure.emplace(ioc, *tls).next_layer() : plain.emplace(ioc);
    stream.expires_at(deadline);
    auto ec = wait([&](auto done) { stream.async_connect(endpoints, done); });
    if (ec) {
      close();
      return std::unexpected(failure("cannot connect", ec));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);  // a request is one write; send it now
    if (!secure) return {};
    // SNI, so that a server hosting several names presents the right certificate, and a check of
    // that certificate's chain and name (DNS or IP entry).
    if (!url.host_is_ip &&
        SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str()) != 1) {
      close();
      return std::unexpected(failure(
          "cannot set SNI",
          beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category())));
    }
    secure->set_verify_mode(ssl::verify_peer);
    secure->set_verify_callback(ssl::host_name_verification(url.host));
    stream.expires_at(deadline);
    ec = wait([&](auto done) { secure->async_handshake(ssl::stream_base::client, done); });
    if (ec) {
      close();
      return std::unexpected(failure("TLS handshake failed", ec));
    }
    return {};
  }

  template <class Stream>
  std::expected<ClientResponse, ClientError> exchange(Stream& stream, Request& req,
                                                      SteadyClock::time_point deadline,
                                                      std::size_t max_body, bool& keep_alive) {
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(deadline);
    auto ec = wait([&](auto done) { http::async_write(stream, req, done); });
    if (ec) return std::unexpected(failure("cannot send the request", ec));
    while (true) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(max_body);
      lowest.expires_at(deadline);
      ec = wait([&](auto done) { http::async_read(stream, buffer, parser, done); });
      if (ec == http::error::body_limit) return std::unexpected(failure("answer too large", ec));
      if (ec) return std::unexpected(failure("no answer", ec));
      const unsigned status = parser.get().result_int();
      // An interim answer (100 Continue, 103 Early Hints): the real one follows on the wire.
      if (status / 100 == 1 && status != kSwitchingProtocols) continue;
      keep_alive = parser.get().keep_alive();
      return ClientResponse{status, std::move(parser.get().body())};
    }
  }
};

std::expected<std::unique_ptr<HttpClient>, std::string> HttpClient::create(HttpUrl url,
                                                                           Options options) {
  std::unique_ptr<HttpClient> client(new HttpClient(std::move(url), std::move(options)));
  if (!client->url_.tls) return client;
  auto& tls = client->connection_->tls.emplace(ssl::context::tls_client);
  if (auto ok = set_up_client_tls(tls, client->options_.ca_file); !ok)
    return std::unexpected(ok.error());
  return client;
}

HttpClient::HttpClient(HttpUrl url, Options options)
    : url_(std::move(url)),
      options_(std::move(options)),
      connection_(std::make_unique<Connection>()) {}

HttpClient::~HttpClient() = default;

std::expected<ClientResponse, ClientError> HttpClient::send(const ClientRequest& request) {
  Connection& c = *connection_;
  const auto deadline = SteadyClock::now() + options_.timeout;
  Request req = make_request(url_, request, options_.keep_alive);
  bool reused = c.connected();
  while (true) {
    if (!c.connected()) {
      if (auto connected = c.connect(url_, deadline); !connected)
        return std::unexpected(std::move(connected.error()));
    }
    bool keep_alive = false;
    auto answer = c.secure
                      ? c.exchange(*c.secure, req, deadline, options_.max_body_bytes, keep_alive)
                      : c.exchange(*c.plain, req, deadline, options_.max_body_bytes, keep_alive);
    if (!answer || !keep_alive || !options_.keep_alive) c.close();
    if (answer) return answer;
    // A kept-alive connection the server closed while it was idle fails on first use. That says
    // nothing about the server, so try once more on a fresh connection.
    if (!reused || answer.error().timed_out || c.aborted) return answer;
    reused = false;
  }
}

void HttpClient::abort() {
  Connection& c = *connection_;
  c.aborted = true;
  c.lookup.wake();
  asio::post(c.ioc, [&c] {
    if (c.plain) c.plain->close();
    if (c.secure) c.secure->next_layer().close();
  });
}

std::expected<ClientResponse, std::string> send_once(const std::string& url,
                                                     const ClientRequest& request,
                                                     HttpClient::Options options) {
  auto parsed = parse_http_url(url);
  if (!parsed) return std::unexpected(parsed.error());
  options.keep_alive = false;
  auto client = HttpClient::create(std::move(*parsed), std::move(options));
  if (!client) return std::unexpected(client.error());
  auto response = (*client)->send(request);
  if (!response) return std::unexpected(response.error().message());
  return std::move(*response);
}

}  // namespace waitroom::net
