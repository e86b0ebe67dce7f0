#include "visitor/notice_request.hpp"

#include "engine/notice_contact.hpp"
#include "token/base64url.hpp"
#include "token/web_push.hpp"

namespace waitroom::visitor {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {
constexpr std::size_t kMaxLangLength = 16;

const json::value* member(const json::object& o, std::string_view name) {
  return o.if_contains(name);
}

std::optional<std::string> string_member(const json::object& o, std::string_view name) {
  const json::value* v = member(o, name);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}
}  // namespace

std::vector<std::string> NoticeSetup::channels() const {
  std::vector<std::string> out;
  if (push_keys) out.emplace_back("push");
  if (email) out.emplace_back("email");
  if (webhook) out.emplace_back("webhook");
  return out;
}

std::optional<NoticeSetup::PushKey> NoticeSetup::push_key() const {
  if (!push_keys) return std::nullopt;
  auto key = push_keys->active_key(token::Algorithm::ES256);
  if (!key) return std::nullopt;
  auto raw = token::raw_public_key(*key);
  if (!raw) return std::nullopt;
  return PushKey{key->kid, token::base64url_encode(*raw)};
}

std::string notice_lang(std::string_view lang) {
  if (lang.empty() || lang.size() > kMaxLangLength) return "en";
  for (char c : lang)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return "en";
  return std::string(lang);
}

core::Result<engine::NoticeRequest> read_notice_request(const json::object& body,
                                                        const NoticeSetup& setup) {
  const auto channel_text = string_member(body, "channel");
  if (!channel_text)
    return fail(ErrorCode::bad_request, "channel is required: \"push\", \"email\" or \"webhook\"");
  const auto channel = core::parse_notice_channel(*channel_text);
  if (!channel)
    return fail(ErrorCode::bad_request, "channel must be \"push\", \"email\" or \"webhook\"");
  const json::value* lang_v = member(body, "lang");
  if (lang_v && !lang_v->is_string())
    return fail(ErrorCode::bad_request, "lang must be a language code such as \"de\"");
  const std::string lang = notice_lang(lang_v ? std::string_view(lang_v->as_string()) : "en");
  switch (*channel) {
    case core::NoticeChannel::email: {
      const auto address = string_member(body, "email");
      if (!address) return fail(ErrorCode::bad_request, "email is required with channel \"email\"");
      return email_notice_request(*address, lang, setup);
    }
    case core::NoticeChannel::push: {
      if (!setup.push_keys)
        return fail(ErrorCode::conflict,
                    "this server sends no push notifications ([push] is not "
                    "set up)");
      const json::value* sub = member(body, "subscription");
      if (!sub || !sub->is_object())
        return fail(ErrorCode::bad_request,
                    "subscription is required with channel \"push\": the browser's "
                    "PushSubscription as JSON");
      const json::object& so = sub->as_object();
      engine::PushSubscription s;
      s.endpoint = string_member(so, "endpoint").value_or("");
      if (const json::value* keys = member(so, "keys"); keys && keys->is_object()) {
        s.p256dh = string_member(keys->as_object(), "p256dh").value_or("");
        s.auth = string_member(keys->as_object(), "auth").value_or("");
      }
      s.key_id = string_member(body, "key_id")
                     .value_or(setup.push_keys->active_kid(token::Algorithm::ES256));
      if (!setup.push_keys->key(s.key_id))
        return fail(ErrorCode::bad_request,
                    "key_id names no push key of this server: subscribe again with the key of "
                    "GET /v1/notify");
      if (auto ok = engine::check_push_subscription(s, setup.push_hosts); !ok)
        return std::unexpected(ok.error());
      return engine::NoticeRequest{core::NoticeChannel::push,
                                   setup.contacts.seal(engine::encode_push_contact(s)), lang};
    }
    case core::NoticeChannel::webhook:
      break;
  }
  if (!setup.webhook)
    return fail(ErrorCode::conflict,
                "this server has no webhook to tell of a notice ([[webhooks]] is not set up)");
  return engine::NoticeRequest{core::NoticeChannel::webhook, {}, lang};
}

core::Result<engine::NoticeRequest> email_notice_request(std::string_view address,
                                                         std::string_view lang,
                                                         const NoticeSetup& setup) {
  if (!setup.email)
    return fail(ErrorCode::conflict, "this server sends no e-mail ([smtp] is not set up)");
  if (auto ok = engine::check_email(address); !ok) return std::unexpected(ok.error());
  return engine::NoticeRequest{core::NoticeChannel::email, setup.contacts.seal(address),
                               notice_lang(lang)};
}

}  // namespace waitroom::visitor
