#pragma once
// IPv4 and IPv6 networks and addresses as 16 bytes: IPv4 is kept IPv4-mapped (::ffff:a.b.c.d), so
// one comparison serves both families and a dual-stack listener's mapped peers match IPv4 rules.
// Parsing only (inet_pton), no sockets: used by room settings (trusted proxies), the proxy's
// bypass rules and the abuse limits' per-client keys.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace waitroom::core {

using IpBytes = std::array<unsigned char, 16>;

struct IpNetwork {
  IpBytes address{};
  unsigned prefix_bits = 0;  // of the 128

  bool operator==(const IpNetwork&) const = default;
};

// "10.0.0.0/8", "2001:db8::/32", or one address ("192.0.2.7": /32, "::1": /128). Host bits set
// after the prefix ("10.1.2.3/8") are refused: almost always a typo for another network.
Result<IpNetwork> parse_ip_network(std::string_view text);
// The canonical text: "10.0.0.0/8", "2001:db8::/32" (IPv4 networks in IPv4 notation).
std::string to_string(const IpNetwork& network);
// One address ("192.0.2.7", "2001:db8::1"); nullopt if it is neither.
std::optional<IpBytes> parse_ip_address(std::string_view text);

bool is_ipv4_mapped(const IpBytes& address);
bool contains(const IpNetwork& network, const IpBytes& address);
// The network of `prefix_bits` (counted within the address's own family: 24 means a /24 for IPv4)
// that holds `address`, e.g. the /64 of an IPv6 client.
IpNetwork network_of(const IpBytes& address, unsigned ipv4_bits, unsigned ipv6_bits);

}  // namespace waitroom::core
