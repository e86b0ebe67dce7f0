#pragma once
// Web Push's cryptography, for "leave and come back" notifications (docs/notifications.md): the
// message is encrypted to the browser's subscription (RFC 8291, the aes128gcm content coding of
// RFC 8188), so the push service carries it without reading it, and the request to the push
// service is signed with a VAPID key (RFC 8292), which the subscription was made for: the push
// service refuses a message signed with any other key. VAPID keys are ES256 keys kept in a KeyRing
// of their own (token/key_ring.hpp), opened for kVapidAlgorithms.
#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "token/algorithm.hpp"
#include "token/signing_key.hpp"

namespace waitroom::token {

// An uncompressed P-256 point: 0x04 || x (32) || y (32) (SEC 1 section 2.3.3), the form of a
// subscription's p256dh key and of VAPID's k parameter.
inline constexpr std::size_t kP256PointBytes = 65;
inline constexpr std::size_t kPushAuthSecretBytes = 16;  // a subscription's auth (RFC 8291 s. 3.2)
inline constexpr std::size_t kPushSaltBytes = 16;
inline constexpr std::uint32_t kPushRecordSize = 4096;
// Push services must take 4096-byte bodies (RFC 8030 section 7.2) and need take no more: the body
// is the 86-byte header, the plaintext, its 1-byte delimiter and the 16-byte tag.
inline constexpr std::size_t kMaxPushPlaintextBytes = 4096 - 86 - 1 - 16;  // 3993

// VAPID keys sign with ES256 only: RFC 8292 section 2 names no other algorithm.
inline constexpr Algorithm kVapidAlgorithms[] = {Algorithm::ES256};
// How long a VAPID token is valid: RFC 8292 section 2 allows at most 24 hours.
inline constexpr std::int64_t kVapidTokenLifetimeS = 12 * 3600;
// How long a retired VAPID key stays in its ring (KeyRing::rotate's retain_s): a subscription is
// made with the key active then and is used at most a room's away_max_s later, capped at 7 days.
inline constexpr std::int64_t kVapidKeyRetentionS = 7 * 24 * 3600;

// The body of a push message (RFC 8291 section 4) for a subscription's p256dh key `ua_public` (an
// uncompressed P-256 point) and its `auth_secret` (16 bytes): one aes128gcm record of size
// kPushRecordSize with the header salt || rs || idlen || keyid (the sender's ephemeral public
// key), from a fresh ephemeral key and salt. Errors: bad_request for a key that is not a point on
// P-256 or an auth secret that is not 16 bytes, payload_too_large for a plaintext of more than
// kMaxPushPlaintextBytes, internal if OpenSSL fails.
core::Result<std::string> encrypt_push_message(std::string_view plaintext,
                                               std::string_view ua_public,
                                               std::string_view auth_secret);

// The same with the sender's ephemeral P-256 key `as_key` and `salt` (16 bytes) given: only for
// reproducing RFC 8291 section 5's example, since reusing either loses the protection.
core::Result<std::string> encrypt_push_message(std::string_view plaintext,
                                               std::string_view ua_public,
                                               std::string_view auth_secret, std::string_view salt,
                                               EVP_PKEY* as_key);

// The origin of a push endpoint, what a VAPID token's aud names (RFC 8292 section 2):
// scheme://host with the port only if not the scheme's default, scheme and host lowercased.
// Empty for anything but an absolute http(s) URL with a host.
std::string push_audience(std::string_view endpoint_url);

// The public half of an ES256 key as an uncompressed point (kP256PointBytes): the
// applicationServerKey a page subscribes with, and VAPID's k. Error for other keys.
core::Result<std::string> raw_public_key(const SigningKey& key);

// The Authorization header's value for a push to `endpoint_url` (RFC 8292 section 3):
// "vapid t=<JWT>, k=<base64url raw_public_key>", the JWT signed by `key` (ES256; its header also
// carries the key's kid) with claims aud = push_audience(endpoint_url), exp = now_s +
// kVapidTokenLifetimeS and sub = `subject`, a mailto: or https: URL the push service may contact.
// Errors are bad_request for an endpoint that is not https (or http to a loopback host), a
// subject of any other scheme or a key that is not ES256.
core::Result<std::string> vapid_authorization(const SigningKey& key, std::string_view endpoint_url,
                                              std::string_view subject, std::int64_t now_s);

}  // namespace waitroom::token
