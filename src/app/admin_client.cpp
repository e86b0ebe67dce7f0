#include "app/admin_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <iostream>

namespace waitroom::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

constexpr std::chrono::seconds kCallTimeout{30};

// One line for an operator: what failed, where, and the system's words for it (never a Boost
// source location, which system_error::what() appends).
int network_failure(const std::string& url, std::string_view what, const beast::error_code& ec) {
  std::cerr << "waitroom admin: " << what << " " << url << ": "
            << (ec == beast::error::timeout ? "no answer within 30 s" : ec.message()) << "\n";
  return 1;
}

}  // namespace

int admin_call(const AdminCall& call) {
  const char* key = std::getenv("WAITROOM_ADMIN_KEY");
  if (!key || !*key) {
    std::cerr << "waitroom admin: set WAITROOM_ADMIN_KEY to the server's admin key\n";
    return 2;
  }
  auto url = boost::urls::parse_uri(call.url);
  if (!url || url->scheme() != "http") {
    std::cerr << "waitroom admin: --url must be an http:// URL\n";
    return 2;
  }
  const std::string host = url->host();
  const std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string prefix = url->path();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  asio::io_context ctx;
  asio::ip::tcp::resolver resolver(ctx);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return network_failure(call.url, "cannot resolve the host of", ec);
  beast::tcp_stream stream(ctx);
  stream.expires_after(kCallTimeout);
  stream.connect(endpoints, ec);
  if (ec) return network_failure(call.url, "cannot reach the server at", ec);
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), prefix + call.path,
                                         11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::authorization, std::string("Bearer ") + key);
  if (!call.body.empty()) req.set(bhttp::field::content_type, "application/json");
  req.body() = call.body;
  req.prepare_payload();
  bhttp::write(stream, req, ec);
  if (ec) return network_failure(call.url, "cannot send the request to", ec);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res, ec);
  if (ec) return network_failure(call.url, "no answer from", ec);
  std::cout << res.body() << (res.body().empty() ? "" : "\n");
  const unsigned status = res.result_int();
  if (status >= 300) std::cerr << "waitroom admin: HTTP " << status << "\n";
  return status < 300 ? 0 : 1;
}

}  // namespace waitroom::app
