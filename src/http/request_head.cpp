#include "http/request_head.hpp"

#include <boost/beast/core/string.hpp>
#include <cctype>

namespace waitroom::http {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kSubDelimsAndMarks = "-._~!$&'()*+,;=";  // RFC 3986 section 2

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         kSubDelimsAndMarks.find(c) != std::string_view::npos;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// reg-name (IPv4 addresses are a special case of it): unreserved, sub-delims, %XX.
bool valid_reg_name(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%') {
      if (i + 2 >= name.size() || !std::isxdigit(static_cast<unsigned char>(name[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(name[i + 2])))
        return false;
      i += 2;
    } else if (!is_host_char(name[i])) {
      return false;
    }
  }
  return true;
}

// Inside [ ]: an IPv6 address or an IPvFuture, checked only for their alphabet.
bool valid_ip_literal(std::string_view inner) {
  if (inner.empty()) return false;
  for (char c : inner)
    if (c != ':' && !is_host_char(c)) return false;
  return true;
}

// A field line that starts with `name` and its colon (names cannot be followed by whitespace).
bool is_field_line(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         boost::beast::iequals(line.substr(0, name.size()), name);
}

}  // namespace

std::optional<HeadRefusal> check_framing(const beast_http::fields& fields, unsigned version) {
  auto [it, end] = fields.equal_range(beast_http::field::transfer_encoding);
  if (it == end) return std::nullopt;  // the common case: one lookup
  if (version < 11)
    return HeadRefusal{Status::bad_request, "HTTP/1.0 requests cannot use Transfer-Encoding"};
  bool chunked = false;
  bool unknown = false;
  for (; it != end; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view coding = trim_ows(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      if (coding.empty()) continue;  // RFC 9110 section 5.6.1: empty list elements are ignored
      if (chunked)
        return HeadRefusal{Status::bad_request,
                           "chunked must be the last transfer coding and appear once"};
      if (boost::beast::iequals(coding, "chunked"))
        chunked = true;
      else
        unknown = true;
    }
  }
  if (unknown)
    return HeadRefusal{Status::not_implemented,
                       "chunked is the only transfer coding this server implements"};
  if (!chunked) return HeadRefusal{Status::bad_request, "Transfer-Encoding names no coding"};
  return std::nullopt;
}

std::optional<HeadRefusal> check_host(const beast_http::fields& fields, unsigned version) {
  auto [it, end] = fields.equal_range(beast_http::field::host);
  if (it == end) {
    if (version < 11) return std::nullopt;  // HTTP/1.0 had no Host
    return HeadRefusal{Status::bad_request, "an HTTP/1.1 request needs a Host header"};
  }
  if (std::next(it) != end) return HeadRefusal{Status::bad_request, "more than one Host header"};
  if (!valid_host(it->value()))
    return HeadRefusal{Status::bad_request, "the Host header is not a valid host[:port]"};
  return std::nullopt;
}

bool valid_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos || !valid_ip_literal(host.substr(1, close - 1)))
      return false;
    const std::string_view rest = host.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && all_digits(rest.substr(1)));
  }
  const auto colon = host.find(':');
  if (colon != std::string_view::npos && !all_digits(host.substr(colon + 1))) return false;
  return valid_reg_name(host.substr(0, colon));
}

std::size_t find_head_end(std::string_view bytes, std::size_t from) {
  const auto at = bytes.find("\r\n\r\n", from);
  return at == std::string_view::npos ? std::string_view::npos : at + 4;
}

std::optional<std::string> without_content_length(std::string_view head) {
  const auto request_line_end = head.find(kCrlf);
  if (request_line_end == std::string_view::npos) return std::nullopt;
  std::string out(head.substr(0, request_line_end + kCrlf.size()));
  bool transfer_encoding = false;
  bool dropped = false;
  bool dropping = false;  // inside a Content-Length field, obs-fold continuations included
  for (std::size_t at = out.size(); at < head.size();) {
    auto next = head.find(kCrlf, at);
    next = next == std::string_view::npos ? head.size() : next + kCrlf.size();
    const std::string_view line = head.substr(at, next - at);
    at = next;
    if (line.front() != ' ' && line.front() != '\t')
      dropping = is_field_line(line, "content-length");
    transfer_encoding = transfer_encoding || is_field_line(line, "transfer-encoding");
    dropped = dropped || dropping;
    if (!dropping) out += line;
  }
  if (!transfer_encoding || !dropped) return std::nullopt;
  return out;
}

std::optional<RequestLine> peek_request_line(std::string_view bytes) {
  const std::string_view line = bytes.substr(0, bytes.find(kCrlf));
  if (line.size() == bytes.size()) return std::nullopt;  // not whole yet
  const auto space = line.find(' ');
  const auto second = space == std::string_view::npos ? space : line.find(' ', space + 1);
  if (second == std::string_view::npos) return std::nullopt;
  return RequestLine{line.substr(0, space), line.substr(space + 1, second - space - 1)};
}

}  // namespace waitroom::http
