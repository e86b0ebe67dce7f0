#include "gate/proxy_headers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/range/iterator_range.hpp>
#include <string>

namespace waitroom::gate {

namespace beast = boost::beast;
using beast::http::field;

namespace {

constexpr field kHopByHop[] = {field::connection,
                               field::keep_alive,
                               field::proxy_connection,
                               field::proxy_authenticate,
                               field::proxy_authorization,
                               field::te,
                               field::trailer,
                               field::transfer_encoding,
                               field::upgrade};
constexpr std::string_view kWaitroomPrefix = "x-waitroom-";
constexpr std::string_view kForwardedFor = "X-Forwarded-For";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string peer_text(const boost::asio::ip::address& peer) {
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; upstreams expect a.b.c.d.
  if (peer.is_v6() && peer.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.to_v6()).to_string();
  return peer.to_string();
}

}  // namespace

void remove_hop_by_hop(beast::http::fields& fields) {
  // The fields a Connection header names are copied out first: erasing Connection frees its text.
  boost::container::small_vector<std::string, 4> named;
  for (const auto& f : boost::make_iterator_range(fields.equal_range(field::connection))) {
    std::string_view value = f.value();
    while (!value.empty()) {
      const auto comma = value.find(',');
      const std::string_view token = trim(value.substr(0, comma));
      if (!token.empty()) named.emplace_back(token);
      value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    }
  }
  for (const std::string& name : named) fields.erase(name);
  for (field f : kHopByHop) fields.erase(f);
}

void remove_waitroom_fields(beast::http::fields& fields) {
  for (auto it = fields.begin(); it != fields.end();) {
    const std::string_view name = it->name_string();
    if (name.size() >= kWaitroomPrefix.size() &&
        beast::iequals(name.substr(0, kWaitroomPrefix.size()), kWaitroomPrefix))
      it = fields.erase(it);
    else
      ++it;
  }
}

void set_forwarded(beast::http::fields& fields, const boost::asio::ip::address& peer,
                   std::string_view original_host, bool over_tls) {
  std::string chain;
  for (const auto& f : boost::make_iterator_range(fields.equal_range(kForwardedFor))) {
    const std::string_view v = trim(f.value());
    if (v.empty()) continue;
    if (!chain.empty()) chain += ", ";
    chain += v;
  }
  if (!chain.empty()) chain += ", ";
  chain += peer_text(peer);
  fields.set(kForwardedFor, chain);
  fields.set("X-Forwarded-Proto", over_tls ? "https" : "http");
  if (original_host.empty())
    fields.erase("X-Forwarded-Host");
  else
    fields.set("X-Forwarded-Host", original_host);
}

}  // namespace waitroom::gate
