// The pass check: the gate's decision, in one place.
//
// The rule: a presented pass (Authorization: Bearer, or the room's pass cookie) is accepted for a
// room when it is exactly the pass the room issued for that ticket, byte for byte (or the one a
// renewal replaced, until that one expires), and the ticket's session is active. A pass bound to
// its client (claim "bind") counts only from that client.
//
// Its signature is not what is checked: the store keeps every pass it issued, so a forged or
// altered token cannot match. The pass's `sub` (read here without verifying) names the ticket;
// Store::check_pass finds the room's session for it, and engine::check_session_pass compares the
// whole token with the issued one in constant time and checks the session's status. A session an
// operator ended, or a reset, fails at once.
#include "visitor/visitor_pass.hpp"

#include <array>

#include "http/query.hpp"
#include "token/base64url.hpp"
#include "token/constant_time.hpp"
#include "visitor/cookies.hpp"

namespace waitroom::visitor {

namespace asio = boost::asio;
using core::ErrorCode;

namespace {

constexpr std::size_t kMaxPassBytes = 8192;
constexpr std::size_t kMaxReturnUrlBytes = 4096;

// What the gate reads of a JWT without checking its signature: the store compares the whole token
// with the pass it issued for that ticket, which is the check. So a plain scan of the payload is
// enough (a token it misreads cannot match), and it is the gate's hot path. The pattern `"name":"`
// cannot occur inside a JSON string value, where quotes are escaped.
struct UnverifiedClaims {
  std::string sub;   // the ticket
  std::string bind;  // empty: the pass is not bound to a client
};

std::string_view string_claim(std::string_view payload, std::string_view pattern) {
  const auto at = payload.find(pattern);
  if (at == std::string_view::npos) return {};
  const auto begin = at + pattern.size();
  const auto end = payload.find('"', begin);
  if (end == std::string_view::npos) return {};
  return payload.substr(begin, end - begin);
}

std::optional<UnverifiedClaims> unverified_claims(std::string_view token) {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::array<char, token::decoded_size(kMaxPassBytes)> buffer;  // on the stack: no allocation
  const auto size = token::base64url_decode(token.substr(first + 1, second - first - 1), buffer);
  if (!size) return std::nullopt;
  const std::string_view payload(buffer.data(), *size);
  const std::string_view sub = string_claim(payload, "\"sub\":\"");
  if (sub.empty()) return std::nullopt;
  return UnverifiedClaims{std::string(sub), std::string(string_claim(payload, "\"bind\":\""))};
}

std::string binding_cookie_name(std::string_view room) {
  return "waitroom-bind-" + std::string(room);
}

// Whether this request comes from the client a bound pass was issued to.
asio::awaitable<bool> bound_client(const VisitorDeps& v, const http::beast_http::fields& headers,
                                   const boost::asio::ip::address& peer, const std::string& room,
                                   const std::string& ticket, std::string_view bind) {
  if (bind.empty()) co_return true;
  if (bind == "cookie")
    co_return token::constant_time_equal(http::cookie_value(headers, binding_cookie_name(room)),
                                         v.abuse.binding_value(room, ticket));
  if (bind.starts_with("ip:")) {
    const std::string prefix = co_await v.abuse.client_prefix(headers, peer, room);
    co_return prefix == bind.substr(3);
  }
  co_return false;
}

std::string_view origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto path = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, path);
}

}  // namespace

asio::awaitable<std::optional<store::PassCheck>> live_pass(const VisitorDeps& v,
                                                           const http::beast_http::fields& headers,
                                                           const boost::asio::ip::address& peer,
                                                           const std::string& room,
                                                           std::string& why) {
  std::string_view token = http::bearer_token(headers);
  // The default cookie name first: the gate's hot path then needs no look at the room's settings.
  // Reading it in a room that names its cookie otherwise is harmless: only the issued pass matches.
  if (token.empty()) token = http::cookie_value(headers, pass_cookie_name(room, {}));
  if (token.empty()) {
    auto cookie = co_await v.store.pass_cookie(room);
    if (cookie && !cookie->name.empty()) token = http::cookie_value(headers, cookie->name);
  }
  if (token.empty()) {
    why = "no pass for this room";
  } else if (token.size() > kMaxPassBytes) {
    why = "the pass is too large";
  } else if (auto claims = unverified_claims(token); !claims) {
    why = "the pass is malformed";
  } else {
    auto checked = co_await v.store.check_pass(room, claims->sub, std::string(token));
    if (checked && !claims->bind.empty()) {
      const bool bound =
          co_await bound_client(v, headers, peer, room, checked->ticket, claims->bind);
      if (!bound) {
        v.abuse.count(room, Refusal::pass_binding);
        why = claims->bind == "cookie" ? "this pass belongs to another browser"
                                       : "this pass belongs to another network";
        co_return std::nullopt;
      }
    }
    if (checked && checked->renewal_due) {
      // A failed renewal (e.g. the disk refuses writes) leaves the still-valid pass in use.
      auto renewed = co_await v.store.renew_pass(room, checked->ticket, claims->bind);
      if (renewed) {
        checked->expires_at_s = renewed->expires_at_s;
        checked->pass = renewed->pass;
        checked->renewed = std::move(*renewed);
      }
    }
    if (checked) co_return std::move(*checked);
    why = checked.error().code == ErrorCode::gone ? checked.error().detail
                                                  : "not a valid pass for this room";
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> renewed_pass_cookie(const VisitorDeps& v,
                                                                const std::string& room,
                                                                const store::PassCheck& check) {
  if (!check.renewed) co_return std::nullopt;
  auto cookie = co_await v.store.pass_cookie(room);
  if (!cookie) co_return std::nullopt;
  co_return set_pass_cookie(room, *cookie, check.renewed->pass, v.config.cookie_secure,
                            std::max<std::int64_t>(check.renewed->expires_in_s, 1));
}

bool is_cookie_bound(std::string_view pass) {
  auto claims = unverified_claims(pass);
  return claims && claims->bind == "cookie";
}

std::optional<std::string> binding_cookie(const VisitorDeps& v, const std::string& room,
                                          const core::PassCookie& cookie, std::string_view pass,
                                          std::string_view ticket) {
  if (!is_cookie_bound(pass)) return std::nullopt;
  core::PassCookie c = cookie;
  c.name = binding_cookie_name(room);
  // It outlives any pass (renewals keep the same value); without a pass it opens nothing.
  return set_pass_cookie(room, c, v.abuse.binding_value(room, ticket), v.config.cookie_secure,
                         core::kMaxPassLifetimeS);
}

std::string room_page_url(const VisitorDeps& v, std::string_view room,
                          std::string_view return_url) {
  std::string url = v.config.public_url + "/r/" + std::string(room);
  if (!return_url.empty()) url += "?return=" + http::percent_encode(return_url);
  return url;
}

std::optional<std::string> safe_return(std::string_view candidate, std::string_view target_url) {
  if (candidate.empty() || candidate.size() > kMaxReturnUrlBytes) return std::nullopt;
  for (char c : candidate)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return std::nullopt;
  if (candidate[0] == '/') {
    if (candidate.size() > 1 && candidate[1] == '/') return std::nullopt;  // //evil.example
    return std::string(candidate);
  }
  const std::string_view origin = origin_of(candidate);
  if (!origin.empty() && origin == origin_of(target_url) &&
      (candidate.size() == origin.size() || candidate[origin.size()] == '/' ||
       candidate[origin.size()] == '?'))
    return std::string(candidate);
  return std::nullopt;
}

}  // namespace waitroom::visitor
