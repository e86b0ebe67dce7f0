#include "http/message.hpp"

namespace waitroom::http {

Response json_response(const Request& req, Status status, std::string body) {
  Response res{status, req.version()};
  res.set(beast_http::field::content_type, "application/json");
  res.set(beast_http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response redirect(const Request& req, Status status, const std::string& location) {
  Response res{status, req.version()};
  res.set(beast_http::field::location, location);
  res.set(beast_http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

std::string_view header_value(const beast_http::fields& headers, std::string_view name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view bearer_token(const beast_http::fields& headers) {
  std::string_view v = header_value(headers, "Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (v.size() > kBearer.size() && v.substr(0, kBearer.size()) == kBearer)
    return v.substr(kBearer.size());
  return {};
}

std::string_view cookie_value(const beast_http::fields& headers, std::string_view name) {
  for (auto it = headers.find(beast_http::field::cookie);
       it != headers.end() && it->name() == beast_http::field::cookie; ++it) {
    std::string_view header = it->value();
    while (!header.empty()) {
      const auto semi = header.find(';');
      std::string_view pair = header.substr(0, semi);
      header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
  }
  return {};
}

}  // namespace waitroom::http
