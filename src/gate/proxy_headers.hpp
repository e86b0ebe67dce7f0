#pragma once
// The header changes the built-in proxy makes on a request to the upstream and on the answer back.
// Pure functions over Beast's fields, so they are tested without sockets.
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <string_view>

namespace waitroom::gate {

// Removes the hop-by-hop fields (RFC 9110 section 7.6.1), which describe one connection and not
// the message: Connection and every field it names, Keep-Alive, Proxy-Connection,
// Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding and Upgrade. The caller
// then frames the message for its next hop (Content-Length stays; chunked is set again).
void remove_hop_by_hop(boost::beast::http::fields& fields);

// Drops every X-Waitroom-* field: on a request, only Waitroom may tell the upstream whom it serves.
void remove_waitroom_fields(boost::beast::http::fields& fields);

// X-Forwarded-For gains the TCP peer (after whatever the client sent: trust only the last entry),
// X-Forwarded-Proto becomes "https" when the client came over TLS ([tls]) and "http" otherwise,
// and X-Forwarded-Host the Host the client asked for (removed when there was none): the upstream
// sees where the request came from, not the proxy.
void set_forwarded(boost::beast::http::fields& fields, const boost::asio::ip::address& peer,
                   std::string_view original_host, bool over_tls);

}  // namespace waitroom::gate
