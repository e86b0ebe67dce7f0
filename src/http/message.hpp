#pragma once
// The HTTP types every handler sees. Beast's string_body: requests are small (body_limit) and
// responses are built whole.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/container/small_vector.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waitroom::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using Status = beast_http::status;
using Method = beast_http::verb;

// Captured path parameters; routes have at most a few, so they live on the stack.
using RouteParams =
    boost::container::small_vector<std::pair<std::string_view, std::string_view>, 4>;

struct RequestContext {
  const Request& request;
  RouteParams params;      // from the route pattern
  std::string_view path;   // target without the query string
  std::string_view query;  // after '?', empty if none
  boost::asio::ip::address remote;

  std::string_view param(std::string_view name) const {
    for (const auto& [k, v] : params)
      if (k == name) return v;
    return {};
  }
};

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;

// A response with a JSON body and the request's HTTP version and keep-alive.
Response json_response(const Request& req, Status status, std::string body);
// A redirect (302, 303) to `location`, never cached.
Response redirect(const Request& req, Status status, const std::string& location);
// These read a request's header fields, whatever its body type (the proxy streams its bodies).
// Reads one cookie's value from the request's Cookie headers; empty when absent.
std::string_view cookie_value(const beast_http::fields& headers, std::string_view name);
// A header's value; empty when absent.
std::string_view header_value(const beast_http::fields& headers, std::string_view name);
// The token of `Authorization: Bearer <token>`; empty when absent or another scheme.
std::string_view bearer_token(const beast_http::fields& headers);

}  // namespace waitroom::http
