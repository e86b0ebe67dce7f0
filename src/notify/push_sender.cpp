#include "notify/push_sender.hpp"

#include <boost/json.hpp>

#include "engine/notice_contact.hpp"
#include "net/http_client.hpp"
#include "token/base64url.hpp"
#include "token/web_push.hpp"

namespace waitroom::notify {

namespace json = boost::json;

namespace {
// How long the push service keeps a message for a browser that is offline: a near message is
// stale after ten minutes, the turn's after its claim window.
constexpr std::int64_t kNearTtlS = 600;
constexpr std::int64_t kTurnTtlWithoutClaimS = 3600;
}  // namespace

PushSender::PushSender(const token::KeyRing& keys, PushOptions options, const core::Clock& clock)
    : keys_(keys), options_(std::move(options)), clock_(clock) {}

std::string PushSender::payload(const engine::PendingNotice& n, const NoticeText& text) {
  return json::serialize(json::object{{"kind", core::to_string(n.kind)},
                                      {"room", n.room},
                                      {"position", n.position},
                                      {"title", text.title},
                                      {"body", text.body},
                                      {"url", text.link},
                                      {"tag", "waitroom-" + n.room}});
}

std::expected<void, SendError> PushSender::send(const engine::PendingNotice& n,
                                                const std::string& contact,
                                                const NoticeText& text) {
  auto sub = engine::decode_push_contact(contact);
  if (!sub) return std::unexpected(SendError{"the push subscription is malformed", true});
  if (auto ok = engine::check_push_subscription(*sub, options_.allowed_hosts); !ok)
    return std::unexpected(SendError{ok.error().detail, true});
  auto key = keys_.key(sub->key_id);
  if (!key)
    return std::unexpected(
        SendError{"the VAPID key the browser subscribed with is no longer kept", true});
  const auto ua_public = token::base64url_decode(sub->p256dh);
  const auto auth = token::base64url_decode(sub->auth);
  if (!ua_public || !auth) return std::unexpected(SendError{"the push keys are malformed", true});
  auto body = token::encrypt_push_message(payload(n, text), *ua_public, *auth);
  if (!body) return std::unexpected(SendError{"cannot encrypt: " + body.error().detail, true});
  const std::int64_t now = clock_.now_s();
  auto vapid = token::vapid_authorization(*key, sub->endpoint, options_.subject, now);
  if (!vapid) return std::unexpected(SendError{"VAPID: " + vapid.error().detail, true});
  std::int64_t ttl = kNearTtlS;
  if (n.kind == core::NoticeKind::turn)
    ttl = n.claim_until_s > now ? n.claim_until_s - now : kTurnTtlWithoutClaimS;
  net::ClientRequest request;
  request.method = "POST";
  request.headers = {{"Content-Type", "application/octet-stream"},
                     {"Content-Encoding", "aes128gcm"},
                     {"TTL", std::to_string(ttl)},
                     {"Urgency", "high"},
                     {"Authorization", *vapid}};
  request.body = std::move(*body);
  net::HttpClient::Options options;
  options.timeout = options_.timeout;
  options.ca_file = options_.ca_file;
  options.max_body_bytes = 64 * 1024;
  auto answer = net::send_once(sub->endpoint, request, options);
  if (!answer) return std::unexpected(SendError{"push service: " + answer.error(), false});
  const unsigned status = answer->status;
  if (status >= 200 && status < 300) return {};
  const std::string why = "push service answered " + std::to_string(status);
  // 404/410: the subscription expired or was withdrawn; 400/403/413: the request can never pass.
  // 429 and 5xx pass with time.
  const bool permanent =
      status == 400 || status == 403 || status == 404 || status == 410 || status == 413;
  return std::unexpected(SendError{why, permanent});
}

}  // namespace waitroom::notify
