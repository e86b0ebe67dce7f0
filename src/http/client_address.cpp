#include "http/client_address.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace waitroom::http {

namespace {

bool trusted(const core::IpBytes& address, std::span<const core::IpNetwork> networks) {
  return std::any_of(networks.begin(), networks.end(),
                     [&](const core::IpNetwork& n) { return core::contains(n, address); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

core::IpBytes to_ip_bytes(const boost::asio::ip::address& address) {
  core::IpBytes bytes{};
  if (address.is_v4()) {
    bytes[10] = bytes[11] = 0xff;
    const auto v4 = address.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), bytes.begin() + 12);
  } else if (address.is_v6()) {
    bytes = address.to_v6().to_bytes();
  }
  return bytes;
}

core::IpBytes client_address(const core::IpBytes& peer, const boost::beast::http::fields& headers,
                             std::span<const core::IpNetwork> trusted_proxies) {
  core::IpBytes current = peer;
  if (!trusted(current, trusted_proxies)) return current;
  // Later header lines were added later: walk the lines from the last, each from its right end.
  auto range = headers.equal_range("X-Forwarded-For");
  std::vector<std::string_view> lines;
  for (auto it = range.first; it != range.second; ++it) lines.push_back(it->value());
  for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
    std::string_view rest = *line;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const std::string_view entry =
          trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      if (entry.empty()) continue;
      auto address = core::parse_ip_address(entry);
      if (!address) return current;
      current = *address;
      if (!trusted(current, trusted_proxies)) return current;
    }
  }
  return current;
}

bool is_loopback(const core::IpBytes& a) {
  if (core::is_ipv4_mapped(a)) return a[12] == 127;
  return std::all_of(a.begin(), a.begin() + 15, [](unsigned char b) { return b == 0; }) &&
         a[15] == 1;
}

core::IpBytes limit_key(const core::IpBytes& address) {
  return core::network_of(address, 32, 64).address;
}

}  // namespace waitroom::http
