#include "engine/notice_contact.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "token/base64url.hpp"

namespace waitroom::engine {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {
constexpr std::size_t kP256PublicKeyBytes = 65;
constexpr std::size_t kPushAuthBytes = 16;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool host_allowed(const std::string& host, const std::vector<std::string>& allowed) {
  for (const std::string& a : allowed) {
    const std::string pattern = lower(a);
    if (pattern == host) return true;
    // "*.example.com": its subdomains, not example.com itself.
    if (pattern.starts_with("*.") && host.size() > pattern.size() - 1 &&
        host.ends_with(std::string_view(pattern).substr(1)))
      return true;
  }
  return false;
}

bool loopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

bool decodes_to(const std::string& b64, std::size_t bytes) {
  auto raw = token::base64url_decode(b64);
  return raw && raw->size() == bytes;
}
}  // namespace

core::Result<void> check_email(std::string_view a) {
  if (a.empty() || a.size() > kMaxEmailLength)
    return fail(ErrorCode::bad_request, "email must be an address of at most 254 characters");
  const std::size_t at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size())
    return fail(ErrorCode::bad_request, "email must be an address like name@example.com");
  for (unsigned char c : a)
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' ||
        c == '(' || c == ')' || c == '\\' || c == '[' || c == ']')
      return fail(ErrorCode::bad_request,
                  "email must be a plain ASCII address (no spaces, quotes, brackets or commas)");
  const std::string_view domain = a.substr(at + 1);
  if (domain.find('@') != std::string_view::npos || domain.find('.') == std::string_view::npos ||
      domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return fail(ErrorCode::bad_request, "email must be an address like name@example.com");
  return {};
}

core::Result<void> check_push_subscription(const PushSubscription& s,
                                           const std::vector<std::string>& allowed_hosts) {
  if (s.endpoint.size() > kMaxPushEndpointLength)
    return fail(ErrorCode::bad_request, "subscription.endpoint is too long");
  const bool https = s.endpoint.starts_with("https://");
  if (!https && !s.endpoint.starts_with("http://"))
    return fail(ErrorCode::bad_request, "subscription.endpoint must be an https URL");
  const std::string_view rest = std::string_view(s.endpoint).substr(https ? 8 : 7);
  std::size_t end = rest.find('/');
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos)
    return fail(ErrorCode::bad_request, "subscription.endpoint must not carry user information");
  // The host without its port ([::1]:8443 keeps its brackets).
  const std::size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos)
    authority = authority.substr(0, colon);
  const std::string host = lower(authority);
  if (host.empty() || !host_allowed(host, allowed_hosts))
    return fail(ErrorCode::forbidden,
                "subscription.endpoint's host " + host +
                    " is not a push service this server sends to ([push] allowed_hosts)");
  if (!https && !loopback(host))
    return fail(ErrorCode::bad_request, "subscription.endpoint must be an https URL");
  if (!decodes_to(s.p256dh, kP256PublicKeyBytes))
    return fail(ErrorCode::bad_request,
                "subscription.keys.p256dh must be a base64url P-256 public key (65 bytes)");
  if (!decodes_to(s.auth, kPushAuthBytes))
    return fail(ErrorCode::bad_request, "subscription.keys.auth must be 16 bytes in base64url");
  return {};
}

std::string encode_push_contact(const PushSubscription& s) {
  return json::serialize(json::object{
      {"endpoint", s.endpoint}, {"p256dh", s.p256dh}, {"auth", s.auth}, {"key_id", s.key_id}});
}

std::optional<PushSubscription> decode_push_contact(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  PushSubscription s;
  for (auto [field, out] : {std::pair{"endpoint", &s.endpoint},
                            {"p256dh", &s.p256dh},
                            {"auth", &s.auth},
                            {"key_id", &s.key_id}}) {
    const json::value* f = o.if_contains(field);
    if (!f || !f->is_string()) return std::nullopt;
    *out = std::string(f->as_string());
  }
  return s;
}

}  // namespace waitroom::engine
