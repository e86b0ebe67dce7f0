#include "api/auth_log.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <string>

#include "core/room_settings.hpp"
#include "http/client_address.hpp"
#include "ops/log.hpp"

namespace waitroom::api {

namespace {

std::string address_text(const core::IpBytes& a) {
  if (core::is_ipv4_mapped(a))
    return boost::asio::ip::address_v4({a[12], a[13], a[14], a[15]}).to_string();
  return boost::asio::ip::address_v6(a).to_string();
}

}  // namespace

std::string request_client(const http::Request& req, const boost::asio::ip::address& peer) {
  // Behind the usual proxy on this machine the peer is 127.0.0.1: name the client it forwards
  // for, trusting X-Forwarded-For as the rooms do by default (127.0.0.1 only).
  const auto trusted = core::AbuseSettings::default_trusted_proxies();
  return address_text(http::client_address(http::to_ip_bytes(peer), req, trusted));
}

void log_auth_failure(std::string_view credential, const http::Request& req,
                      const boost::asio::ip::address& peer, std::string_view reason) {
  const std::string client = request_client(req, peer);
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  boost::json::object fields{{"credential", credential},
                             {"client", client},
                             {"route", std::string(req.method_string()) + " " + std::string(path)},
                             {"reason", reason}};
  if (address_text(http::to_ip_bytes(peer)) != client) fields["peer"] = peer.to_string();
  ops::log_warn("authentication failed", std::move(fields));
}

}  // namespace waitroom::api
