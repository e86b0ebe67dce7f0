#include "net/client_tls.hpp"

#include <openssl/ssl.h>

namespace waitroom::net {

std::expected<void, std::string> set_up_client_tls(boost::asio::ssl::context& context,
                                                   const std::string& ca_file) {
  boost::system::error_code ec;
  if (ca_file.empty())
    context.set_default_verify_paths(ec);
  else
    context.load_verify_file(ca_file, ec);
  if (ec)
    return std::unexpected(ca_file.empty()
                               ? "ca_file: cannot load the system CA paths: " + ec.message()
                               : "ca_file: cannot load " + ca_file + ": " + ec.message());
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  return {};
}

}  // namespace waitroom::net
