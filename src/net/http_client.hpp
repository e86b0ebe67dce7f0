#pragma once
// The one HTTP/1.1 client for the calls Waitroom itself makes (webhook deliveries, JWKS fetches):
// blocking, one connection kept alive between requests, plain or TLS (SNI, chain and name
// checked, TLS 1.2 at least), and a deadline on every step, name lookup included. Beast and Asio
// stay inside http_client.cpp, so the files that use it compile quickly.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_url.hpp"

namespace waitroom::net {

struct ClientRequest {
  std::string_view method = "GET";                           // GET or POST
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host and Content-Length
  std::string body;                                          // sent with Content-Length if any
};

struct ClientResponse {
  unsigned status = 0;  // the final answer's (interim 1xx answers are skipped)
  std::string body;
};

// Why no answer came: the step that failed and why.
struct ClientError {
  std::string step;    // "cannot resolve example.com", "cannot connect", "TLS handshake failed",
                       // "cannot send the request", "no answer", "answer too large"
  std::string reason;  // "timed out", "Connection refused", "certificate verify failed", ...
  bool timed_out = false;
  // "cannot connect: Connection refused", "no answer: timed out"
  std::string message() const { return step + ": " + reason; }
};

class HttpClient {
 public:
  struct Options {
    std::chrono::milliseconds timeout{5000};  // one send(): lookup + connect + TLS + exchange
    std::string ca_file;                      // https: PEM CAs to trust; empty: the system's
    std::size_t max_body_bytes = 1 << 20;     // a bigger answer fails with "answer too large"
    bool keep_alive = true;                   // false: one connection per send()
  };
  // Errors (https only) name the file: "ca_file: cannot load /x.pem: ..." or the system paths.
  static std::expected<std::unique_ptr<HttpClient>, std::string> create(HttpUrl url,
                                                                        Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request to the URL's target within the timeout. A kept-alive connection that the server
  // closed while idle is retried once on a fresh one (that says nothing about the server). One
  // call at a time.
  std::expected<ClientResponse, ClientError> send(const ClientRequest& request);

  // Any thread: the step in progress, and every later one, fails at once (operation_aborted).
  void abort();

  const HttpUrl& url() const { return url_; }

 private:
  struct Connection;  // Beast's streams and the private io_context
  HttpClient(HttpUrl url, Options options);

  const HttpUrl url_;
  const Options options_;
  std::unique_ptr<Connection> connection_;
};

// One request on a connection of its own, for the rare calls (a room's JWKS, an identity
// provider's discovery and token endpoints): `options.keep_alive` is ignored. The error says what
// failed: the URL, the client's setup (TLS trust), or the exchange (ClientError::message()).
std::expected<ClientResponse, std::string> send_once(const std::string& url,
                                                     const ClientRequest& request,
                                                     HttpClient::Options options);

}  // namespace waitroom::net
