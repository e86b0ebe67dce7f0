#include "gate/oidc_common.hpp"

#include <boost/json.hpp>
#include <cctype>

#include "http/query.hpp"

namespace waitroom::gate {

namespace {

constexpr std::size_t kMaxHostBytes = 255;

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
         c == '[' || c == ']';
}

// A quoted-string for WWW-Authenticate: our descriptions are plain text; drop what would break it.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text)
    if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) out += c;
  return out + "\"";
}

}  // namespace

std::optional<std::string> oidc_issuer(const OidcDeps& s, const http::Request& req,
                                       std::string_view room) {
  std::string base = s.config.public_url;
  if (base.empty()) {
    const std::string_view host = http::header_value(req, "Host");
    if (host.empty() || host.size() > kMaxHostBytes) return std::nullopt;
    for (char c : host)
      if (!is_host_char(c)) return std::nullopt;
    base = "http://" + std::string(host);
  }
  return base + "/oidc/" + std::string(room);
}

http::Response oauth_error(const http::Request& req, std::string_view error,
                           std::string_view description, bool basic_challenge) {
  boost::json::object body{{"error", error}, {"error_description", description}};
  http::Response res = http::json_response(
      req, basic_challenge ? http::Status::unauthorized : http::Status::bad_request,
      boost::json::serialize(body));
  res.set(http::beast_http::field::pragma, "no-cache");
  if (basic_challenge)
    res.set(http::beast_http::field::www_authenticate, "Basic realm=\"waitroom\"");
  return res;
}

http::Response bearer_error(const http::Request& req, std::string_view error,
                            std::string_view description, bool token_presented) {
  boost::json::object body{{"error", error}, {"error_description", description}};
  http::Response res =
      http::json_response(req, http::Status::unauthorized, boost::json::serialize(body));
  std::string challenge = "Bearer realm=\"waitroom\"";
  if (token_presented)
    challenge += ", error=" + quoted(error) + ", error_description=" + quoted(description);
  res.set(http::beast_http::field::www_authenticate, challenge);
  return res;
}

std::string with_query(
    std::string_view base,
    std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  std::string out(base);
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    out += sep;
    out += name;
    out += '=';
    out += http::percent_encode(value);
    sep = '&';
  }
  return out;
}

}  // namespace waitroom::gate
