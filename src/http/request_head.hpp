#pragma once
// What RFC 9112 asks of a request head before its body is read or it is routed: how the body is
// framed (section 6) and the Host field (section 3.2). A server that frames a body differently
// from the proxy in front of it serves whatever the body hides as a second request (request
// smuggling), so anything ambiguous is refused and the connection closed. Pure functions over
// bytes and parsed fields, so they are tested without a socket.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace waitroom::http {

// Why a request head cannot be served: the status and the problem's detail. The connection
// closes after the answer, since the end of the request in the byte stream is uncertain.
struct HeadRefusal {
  Status status;
  std::string_view detail;
};

// Transfer-Encoding: only chunked is implemented, and it must come last exactly once
// (section 6.1): chunked not last is a 400, any other coding a 501. HTTP/1.0 has no transfer
// codings, so a Transfer-Encoding there is faulty framing (section 6.1 again): 400.
std::optional<HeadRefusal> check_framing(const beast_http::fields& fields, unsigned version);
// Host: HTTP/1.1 needs exactly one; two, or one that is no uri-host[:port], is a 400 in any
// version. (An empty Host is valid: a target URI without an authority.)
std::optional<HeadRefusal> check_host(const beast_http::fields& fields, unsigned version);
bool valid_host(std::string_view host);

// The offset just past the blank line that ends a request head in `bytes`, searching from
// `from` (where an earlier search of a shorter prefix stopped); npos while it is incomplete.
std::size_t find_head_end(std::string_view bytes, std::size_t from);
// `head` without its Content-Length field lines, when it also has Transfer-Encoding; nullopt
// otherwise. With both, Transfer-Encoding wins (section 6.3) and the length must not be read.
std::optional<std::string> without_content_length(std::string_view head);

// The method and target of the request line at the start of `bytes`; nullopt until the line is
// whole. Read before the head is complete, to choose how much of a head to accept.
struct RequestLine {
  std::string_view method;
  std::string_view target;
};
std::optional<RequestLine> peek_request_line(std::string_view bytes);

}  // namespace waitroom::http
