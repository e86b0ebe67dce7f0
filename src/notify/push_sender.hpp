#pragma once
// Web Push (RFC 8030) to a browser's push service: the message encrypted for the browser alone
// (RFC 8291, aes128gcm) and the request signed with the server's VAPID key (RFC 8292), the one the
// browser subscribed with, so the push service knows it comes from the server the visitor chose.
#include <string>
#include <vector>

#include "notify/notifier.hpp"
#include "token/key_ring.hpp"

namespace waitroom::notify {

struct PushOptions {
  // VAPID's contact for the push service's operators: "mailto:ops@example.com" or an https URL.
  std::string subject;
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;  // PEM CAs to trust instead of the system's (a test's push service)
  // [push] allowed_hosts, checked again at each send: a host taken off the list since the
  // visitor subscribed is not sent to.
  std::vector<std::string> allowed_hosts;
};

class PushSender final : public Sender {
 public:
  PushSender(const token::KeyRing& keys, PushOptions options, const core::Clock& clock);
  std::expected<void, SendError> send(const engine::PendingNotice& notice,
                                      const std::string& contact, const NoticeText& text) override;

  // The message the service worker shows (src/web/assets/push-sw.js): JSON with kind, room,
  // position, title, body, url and tag. Public for tests.
  static std::string payload(const engine::PendingNotice& notice, const NoticeText& text);

 private:
  const token::KeyRing& keys_;
  const PushOptions options_;
  const core::Clock& clock_;
};

}  // namespace waitroom::notify
