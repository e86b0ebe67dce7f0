#pragma once
// Leave and come back, as visitors ask for it (the public API's PUT .../notify, the room page's
// "Notify me" form): what this server can notify by, and a visitor's choice read, checked and its
// contact sealed before it reaches the room (engine/notice_ops.hpp). The address or subscription
// is never in the room's state, log or events in the clear (docs/security.md).
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "engine/notice_ops.hpp"
#include "token/key_ring.hpp"
#include "token/sealed_box.hpp"

namespace waitroom::visitor {

struct NoticeSetup {
  const token::SealedBox& contacts;           // seals each contact
  const token::KeyRing* push_keys = nullptr;  // VAPID keys; null: no Web Push ([push] unset)
  std::vector<std::string> push_hosts;        // the push services' hosts we send to
  bool email = false;                         // [smtp] is set up
  // Webhooks are set up ([[webhooks]]): the operator hears of each notice's messages and tells
  // the visitor their own way (SMS). Without one, nobody would be told.
  bool webhook = false;

  // The channels a visitor may choose here, in the order the page offers them.
  std::vector<std::string> channels() const;
  // The VAPID key browsers subscribe with: its kid and its public key (base64url of the
  // uncompressed P-256 point, the applicationServerKey). nullopt without push.
  struct PushKey {
    std::string key_id;
    std::string public_key;
  };
  std::optional<PushKey> push_key() const;
};

// A language code as the page and apps send it ("de", "pt-BR"), or English.
std::string notice_lang(std::string_view lang);

// {"channel": "push", "subscription": {"endpoint", "keys": {"p256dh", "auth"}}, "key_id"?},
// {"channel": "email", "email": "…"} or {"channel": "webhook"}; "lang" with any of them.
core::Result<engine::NoticeRequest> read_notice_request(const boost::json::object& body,
                                                        const NoticeSetup& setup);
// The page's form without JavaScript: an e-mail address.
core::Result<engine::NoticeRequest> email_notice_request(std::string_view address,
                                                         std::string_view lang,
                                                         const NoticeSetup& setup);

}  // namespace waitroom::visitor
