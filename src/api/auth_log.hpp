#pragma once
// One JSON log line for every refused credential (a wrong admin key, a refused SigV4 signature,
// a failed or throttled dashboard sign-in), so that an operator sees guessing and misconfigured
// callers in the log, not only in /metrics. The line names who (the client address), where (the
// route: method and path, never the query, which may carry a presigned signature) and why; it
// never contains what was sent as the secret.
#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace waitroom::api {

// The client's address: the TCP peer, or behind a proxy at 127.0.0.1 the address it names in
// X-Forwarded-For.
std::string request_client(const http::Request& req, const boost::asio::ip::address& peer);

// `credential`: "admin_key", "aws_sigv4" or "dashboard_sign_in"; `reason`: why it was refused,
// in words that carry no secret.
void log_auth_failure(std::string_view credential, const http::Request& req,
                      const boost::asio::ip::address& peer, std::string_view reason);

}  // namespace waitroom::api
