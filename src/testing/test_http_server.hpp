#pragma once
// Test-only: an HTTP(S) server on 127.0.0.1 with its own thread that answers each request as the
// test's handler says, or holds the connection without answering: the other end for tests of the
// calls Waitroom makes itself (webhook deliveries, JWKS fetches). Beast stays in the .cpp, which
// is compiled once for every test that uses it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waitroom::testing {

struct TestRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header of that name (any case), or "".
  std::string header(std::string_view name) const;
};

struct TestAnswer {
  unsigned status = 200;
  std::string body;
  std::string content_type;  // empty: no Content-Type
  bool keep_alive = true;    // false: "Connection: close", then the server closes
  bool early_hints = false;  // a "103 Early Hints" goes out first (clients must skip it)
  bool close_after = false;  // close right after answering without saying so: the next request
                             // a client sends on the connection meets a closed socket
};

// std::nullopt: stay silent, holding the connection open until the client gives up.
using TestHandler = std::function<std::optional<TestAnswer>(const TestRequest&)>;

class TestHttpServer {
 public:
  struct Tls {
    std::string cert_pem;
    std::string key_pem;
  };
  // `port` 0 picks a free one; `tls` makes this an https server with that certificate.
  explicit TestHttpServer(TestHandler handler, std::uint16_t port = 0,
                          std::optional<Tls> tls = std::nullopt);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const;
  bool tls() const;
  int connections() const;  // accepted so far
  // "http(s)://host:port" + path.
  std::string url(std::string_view path, std::string_view host = "127.0.0.1") const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A loopback port nothing listens on: connections to it are refused.
std::uint16_t refused_port();

}  // namespace waitroom::testing
