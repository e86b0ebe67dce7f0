#include "gate/route_table.hpp"

#include <algorithm>
#include <cctype>

namespace waitroom::gate {

RouteTable::RouteTable(const std::vector<config::ProxyRoute>& routes) {
  for (std::size_t i = 0; i < routes.size(); ++i)
    entries_.push_back({routes[i].host, routes[i].path_prefix, i});
  // The first entry that matches is the answer: a named host before any host, then longer prefixes.
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.host.empty() != b.host.empty()) return !a.host.empty();
    return a.prefix.size() > b.prefix.size();
  });
}

std::optional<std::size_t> RouteTable::match(std::string_view host_header,
                                             std::string_view path) const {
  if (entries_.empty()) return std::nullopt;
  std::string host;
  bool host_done = false;
  for (const Entry& e : entries_) {
    if (!e.host.empty()) {
      if (!host_done) {
        host = normalize_host(host_header);
        host_done = true;
      }
      if (e.host != host) continue;
    }
    if (path.starts_with(e.prefix)) return e.index;
  }
  return std::nullopt;
}

std::string normalize_host(std::string_view host_header) {
  std::string_view host = host_header;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    host = close == std::string_view::npos ? host : host.substr(0, close + 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool has_dot_segment(std::string_view path) {
  // Walk the path once, treating '/', '\', %2f and %5c as separators and %2e as '.'; a segment
  // made of one or two dots and nothing else is a dot segment.
  std::size_t dots = 0;
  bool only_dots = true;
  auto separator_at = [&](std::size_t i) -> std::size_t {  // its length, or 0
    if (path[i] == '/' || path[i] == '\\') return 1;
    if (path[i] == '%' && i + 2 < path.size()) {
      const char a = path[i + 1],
                 b = static_cast<char>(std::tolower(static_cast<unsigned char>(path[i + 2])));
      if ((a == '2' && b == 'f') || (a == '5' && b == 'c')) return 3;
    }
    return 0;
  };
  auto segment_ends = [&] {
    const bool dot_segment = only_dots && (dots == 1 || dots == 2);
    dots = 0;
    only_dots = true;
    return dot_segment;
  };
  for (std::size_t i = 0; i < path.size();) {
    if (const std::size_t sep = separator_at(i)) {
      if (segment_ends()) return true;
      i += sep;
    } else if (path[i] == '.') {
      ++dots;
      ++i;
    } else if (path[i] == '%' && i + 2 < path.size() && path[i + 1] == '2' &&
               (path[i + 2] == 'e' || path[i + 2] == 'E')) {
      ++dots;
      i += 3;
    } else {
      only_dots = false;
      ++i;
    }
  }
  return segment_ends();
}

}  // namespace waitroom::gate
