#include "http/router.hpp"

namespace waitroom::http {

namespace {
// Splits on '/'; matching runs on every request, so no heap allocation for usual paths.
using Segments = boost::container::small_vector<std::string_view, 8>;

Segments split_path(std::string_view path) {
  Segments out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_capture(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}
}  // namespace

void Router::add(Method method, std::string pattern, Handler handler) {
  std::vector<std::string> segments;
  for (std::string_view s : split_path(pattern)) segments.emplace_back(s);
  routes_.push_back(Route{method, std::move(pattern), std::move(handler), std::move(segments)});
}

void Router::add_stream(Method method, std::string pattern, StreamHandler& handler,
                        std::size_t stream_route) {
  add(method, std::move(pattern), nullptr);
  routes_.back().stream = &handler;
  routes_.back().stream_route = stream_route;
}

void Router::guard(std::string prefix, Guard guard) {
  guards_.emplace_back(std::move(prefix), std::move(guard));
}

std::optional<Response> Router::check_guards(const Request& req, std::string_view path,
                                             const boost::asio::ip::address& remote) const {
  for (const auto& [prefix, guard] : guards_) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    if (auto answer = guard(req, remote)) return answer;
  }
  return std::nullopt;
}

bool Router::guarded(std::string_view path) const {
  for (const auto& [prefix, guard] : guards_)
    if (path.substr(0, prefix.size()) == prefix) return true;
  return false;
}

Match Router::match(Method method, std::string_view path) const {
  Match result;
  const Segments parts = split_path(path);
  RouteParams params;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route& route = routes_[i];
    if (route.segments.size() != parts.size()) continue;
    params.clear();
    bool ok = true;
    for (std::size_t s = 0; s < parts.size() && ok; ++s) {
      const std::string& seg = route.segments[s];
      if (is_capture(seg)) {
        ok = !parts[s].empty();
        if (ok) params.emplace_back(std::string_view(seg).substr(1, seg.size() - 2), parts[s]);
      } else {
        ok = seg == parts[s];
      }
    }
    if (!ok) continue;
    if (route.method == method || (method == Method::head && route.method == Method::get)) {
      result.route = &route;
      result.index = i;
      result.params = std::move(params);
      return result;
    }
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += std::string(beast_http::to_string(route.method));
  }
  return result;
}

}  // namespace waitroom::http
