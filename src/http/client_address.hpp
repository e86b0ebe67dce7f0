#pragma once
// Who sent a request: the TCP peer, or, when the peer is a proxy we trust, the client the proxy
// names in X-Forwarded-For. Rate limits and pass binding key on this address.
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <span>

#include "core/ip_network.hpp"

namespace waitroom::http {

core::IpBytes to_ip_bytes(const boost::asio::ip::address& address);

// Walks X-Forwarded-For from the right (each proxy appends the address it saw) while the address
// in hand is a trusted proxy, and stops at the first one that is not: everything left of it was
// written by the client and may be forged. An entry that is not an address ends the walk at the
// last address believed.
core::IpBytes client_address(const core::IpBytes& peer, const boost::beast::http::fields& headers,
                             std::span<const core::IpNetwork> trusted_proxies);

// 127.0.0.0/8, ::1 (and IPv4-mapped loopback): the machine itself.
bool is_loopback(const core::IpBytes& address);

// The key a per-client limit counts under: the address for IPv4, its /64 for IPv6 (one
// subscriber usually holds a whole /64, so counting single IPv6 addresses would be no limit).
core::IpBytes limit_key(const core::IpBytes& address);

}  // namespace waitroom::http
