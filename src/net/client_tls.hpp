#pragma once
// The TLS context of a client Waitroom calls out with (net/http_client.hpp, net/smtp_client.hpp):
// the server is checked against `ca_file` (PEM) or, when it is empty, the system's CAs, and
// nothing older than TLS 1.2 is spoken. Each connection still checks the host name itself.
#include <boost/asio/ssl/context.hpp>
#include <expected>
#include <string>

namespace waitroom::net {

// Loads the CAs into `context`. The error names the file: "ca_file: cannot load /x.pem: ...".
std::expected<void, std::string> set_up_client_tls(boost::asio::ssl::context& context,
                                                   const std::string& ca_file);

}  // namespace waitroom::net
