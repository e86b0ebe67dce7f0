#pragma once
// What a notice's contact holds once opened (it is sealed in the room's state and log): an e-mail
// address, or a browser's push subscription (RFC 8030's endpoint, RFC 8291's keys) with the VAPID
// key it was made for. The visitor layer reads and checks them; the notifier (notify/) opens them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::engine {

// The longest address RFC 5321 lets through a path.
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMaxPushEndpointLength = 2048;

struct PushSubscription {
  std::string endpoint;  // https URL of the browser's push service
  std::string p256dh;    // base64url, the browser's P-256 public key (65 bytes)
  std::string auth;      // base64url, its 16-byte authentication secret
  std::string key_id;    // the VAPID key (kid) the subscription was made with

  bool operator==(const PushSubscription&) const = default;
};

// Whether `address` is one mailbox, local@domain, with nothing a mail header or SMTP command
// could be bent by (no spaces, CR, LF, <, >, quotes or commas). The message says what is wrong.
core::Result<void> check_email(std::string_view address);

// Whether the subscription is well formed and its endpoint is https on one of `allowed_hosts`
// (exact names, or "*.example.com" for its subdomains). A loopback host named in the list may use
// http (a local push service in tests). Sending to any host a visitor names would let visitors
// make the server POST where they like.
core::Result<void> check_push_subscription(const PushSubscription& s,
                                           const std::vector<std::string>& allowed_hosts);

std::string encode_push_contact(const PushSubscription& s);
std::optional<PushSubscription> decode_push_contact(std::string_view text);

}  // namespace waitroom::engine
