#include "core/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace waitroom::core {

namespace {
constexpr unsigned kMappedBits = 96;  // ::ffff:0:0/96 holds the IPv4 addresses
}

bool is_ipv4_mapped(const IpBytes& a) {
  return std::all_of(a.begin(), a.begin() + 10, [](unsigned char b) { return b == 0; }) &&
         a[10] == 0xff && a[11] == 0xff;
}

std::optional<IpBytes> parse_ip_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  IpBytes out{};
  unsigned char v4[4];
  if (::inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out[10] = out[11] = 0xff;
    std::copy(std::begin(v4), std::end(v4), out.begin() + 12);
    return out;
  }
  if (::inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

Result<IpNetwork> parse_ip_network(std::string_view text) {
  const auto slash = text.find('/');
  auto address = parse_ip_address(text.substr(0, slash));
  if (!address)
    return fail(
        ErrorCode::bad_request,
        "\"" + std::string(text) + "\" is not an IPv4 or IPv6 network such as \"10.0.0.0/8\"");
  IpNetwork out{*address, 0};
  const bool v4 = is_ipv4_mapped(*address) && text.find(':') == std::string_view::npos;
  const unsigned max_bits = v4 ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view b = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (b.empty() || ec != std::errc{} || end != b.data() + b.size() || bits > max_bits)
      return fail(ErrorCode::bad_request,
                  "the prefix length after '/' must be 0-" + std::to_string(max_bits));
  }
  out.prefix_bits = bits + (v4 ? kMappedBits : 0);
  for (unsigned i = out.prefix_bits; i < 128; ++i)
    if (out.address[i / 8] & (0x80 >> (i % 8)))
      return fail(ErrorCode::bad_request,
                  "\"" + std::string(text) + "\" has bits set after the prefix length");
  return out;
}

std::string to_string(const IpNetwork& n) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_ipv4_mapped(n.address) && n.prefix_bits >= kMappedBits) {
    ::inet_ntop(AF_INET, n.address.data() + 12, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(n.prefix_bits - kMappedBits);
  }
  ::inet_ntop(AF_INET6, n.address.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(n.prefix_bits);
}

bool contains(const IpNetwork& network, const IpBytes& address) {
  const unsigned full = network.prefix_bits / 8, rest = network.prefix_bits % 8;
  if (!std::equal(address.begin(), address.begin() + full, network.address.begin())) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (address[full] & mask) == (network.address[full] & mask);
}

IpNetwork network_of(const IpBytes& address, unsigned ipv4_bits, unsigned ipv6_bits) {
  IpNetwork n{address, is_ipv4_mapped(address) ? kMappedBits + std::min(ipv4_bits, 32u)
                                               : std::min(ipv6_bits, 128u)};
  for (unsigned i = n.prefix_bits; i < 128; ++i)
    n.address[i / 8] &= static_cast<unsigned char>(~(0x80 >> (i % 8)));
  return n;
}

}  // namespace waitroom::core
