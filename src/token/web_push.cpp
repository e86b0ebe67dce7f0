#include "token/web_push.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

#include "core/https_url.hpp"
#include "token/base64url.hpp"
#include "token/jws.hpp"

namespace waitroom::token {
namespace {

constexpr std::string_view kP256GroupName = "prime256v1";  // OpenSSL's name for P-256
constexpr unsigned char kUncompressedPoint = 0x04;         // SEC 1 section 2.3.3
constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::size_t kEcdhSecretBytes = 32;
constexpr std::size_t kIkmBytes = 32;
constexpr std::size_t kCekBytes = 16;    // AES-128
constexpr std::size_t kNonceBytes = 12;  // RFC 8188 section 2.3
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kHeaderBytes = kPushSaltBytes + 4 + 1 + kP256PointBytes;
static_assert(kHeaderBytes + kMaxPushPlaintextBytes + 1 + kTagBytes == kPushRecordSize);
// The only record is the last: its padding starts with 2 (RFC 8188 section 2). Nothing follows
// it, because the length of a notification says little and padding costs every push's bytes.
constexpr char kLastRecordDelimiter = 0x02;
// The info strings of RFC 8291 section 3.4 and RFC 8188 section 2.2, each ending in a zero byte.
constexpr std::string_view kKeyInfo{"WebPush: info\0", 14};
constexpr std::string_view kCekInfo{"Content-Encoding: aes128gcm\0", 28};
constexpr std::string_view kNonceInfo{"Content-Encoding: nonce\0", 24};

struct OpenSslFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, OpenSslFree>;

auto internal(std::string detail) {
  return core::fail(core::ErrorCode::internal, std::move(detail));
}
auto bad_request(std::string detail) {
  return core::fail(core::ErrorCode::bad_request, std::move(detail));
}

unsigned char* bytes_of(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
// OSSL_PARAM takes non-const pointers even for what it only reads.
OSSL_PARAM octet_param(const char* name, std::string_view bytes) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<char*>(bytes.data()), bytes.size());
}

// HKDF-SHA256 (RFC 5869), extract and expand, `length` bytes.
core::Result<std::string> hkdf_sha256(std::string_view salt, std::string_view ikm,
                                      std::string_view info, std::size_t length) {
  const Owned<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  const Owned<EVP_KDF_CTX> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      octet_param(OSSL_KDF_PARAM_SALT, salt), octet_param(OSSL_KDF_PARAM_KEY, ikm),
      octet_param(OSSL_KDF_PARAM_INFO, info), OSSL_PARAM_construct_end()};
  std::string out(length, '\0');
  if (!ctx || EVP_KDF_derive(ctx.get(), bytes_of(out), out.size(), params) != 1)
    return internal("HKDF failed");
  return out;
}

bool is_p256(EVP_PKEY* key) {
  char group[32] = {};
  return key != nullptr && EVP_PKEY_is_a(key, "EC") &&
         EVP_PKEY_get_group_name(key, group, sizeof group, nullptr) == 1 && group == kP256GroupName;
}

// The subscription's key, checked to be a point on P-256: a point off the curve would make the
// ECDH below leak bits of our ephemeral key (an invalid-curve attack) or simply fail.
core::Result<Owned<EVP_PKEY>> p256_public_key(std::string_view point) {
  if (point.size() != kP256PointBytes || static_cast<unsigned char>(point[0]) != kUncompressedPoint)
    return bad_request("p256dh is not an uncompressed P-256 point of 65 bytes");
  const Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>(kP256GroupName.data()), 0),
      octet_param(OSSL_PKEY_PARAM_PUB_KEY, point), OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return bad_request("p256dh is not a point on P-256");
  Owned<EVP_PKEY> key(raw);
  const Owned<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return bad_request("p256dh is not a point on P-256");
  return key;
}

core::Result<std::string> encoded_public_key(EVP_PKEY* key) {
  std::string point(kP256PointBytes, '\0');
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, bytes_of(point),
                                      point.size(), &len) != 1 ||
      len != kP256PointBytes || static_cast<unsigned char>(point[0]) != kUncompressedPoint)
    return internal("the sender's key has no uncompressed P-256 point");
  return point;
}

core::Result<std::string> ecdh(EVP_PKEY* own, EVP_PKEY* peer) {
  const Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  std::string secret(kEcdhSecretBytes, '\0');
  std::size_t len = secret.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, /*validate_peer=*/1) != 1 ||
      EVP_PKEY_derive(ctx.get(), bytes_of(secret), &len) != 1 || len != kEcdhSecretBytes)
    return internal("ECDH failed");
  return secret;
}

// AES-128-GCM of plaintext || delimiter: the record's ciphertext followed by its tag.
core::Result<std::string> seal_record(std::string_view cek, std::string_view nonce,
                                      std::string_view plaintext) {
  const Owned<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + 1 + kTagBytes, '\0');
  int len = 0, delimiter_len = 0, tail = 0;
  const char delimiter = kLastRecordDelimiter;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, bytes_of(cek), bytes_of(nonce)) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), bytes_of(out), &len, bytes_of(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes_of(out) + len, &delimiter_len,
                        reinterpret_cast<const unsigned char*>(&delimiter), 1) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes_of(out) + len + delimiter_len, &tail) != 1 ||
      static_cast<std::size_t>(len + delimiter_len + tail) != plaintext.size() + 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes_of(out) + plaintext.size() + 1) != 1)
    return internal("AES-128-GCM failed");
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

core::Result<std::string> encrypt_push_message(std::string_view plaintext,
                                               std::string_view ua_public,
                                               std::string_view auth_secret) {
  // A fresh key and salt per message: the content key and nonce then never repeat.
  const Owned<EVP_PKEY> as_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!as_key) return internal("P-256 key generation failed");
  std::string salt(kPushSaltBytes, '\0');
  if (RAND_bytes(bytes_of(salt), static_cast<int>(salt.size())) != 1)
    return internal("RAND_bytes failed");
  return encrypt_push_message(plaintext, ua_public, auth_secret, salt, as_key.get());
}

core::Result<std::string> encrypt_push_message(std::string_view plaintext,
                                               std::string_view ua_public,
                                               std::string_view auth_secret, std::string_view salt,
                                               EVP_PKEY* as_key) {
  if (plaintext.size() > kMaxPushPlaintextBytes) {
    return core::fail(
        core::ErrorCode::payload_too_large,
        "a push message holds at most " + std::to_string(kMaxPushPlaintextBytes) + " bytes");
  }
  if (auth_secret.size() != kPushAuthSecretBytes)
    return bad_request("the subscription's auth secret is not 16 bytes");
  if (salt.size() != kPushSaltBytes) return bad_request("the salt is not 16 bytes");
  if (!is_p256(as_key)) return internal("the sender's key is not a P-256 key");
  auto ua_key = p256_public_key(ua_public);
  if (!ua_key) return std::unexpected(ua_key.error());
  auto as_public = encoded_public_key(as_key);
  if (!as_public) return std::unexpected(as_public.error());
  auto ecdh_secret = ecdh(as_key, ua_key->get());
  if (!ecdh_secret) return std::unexpected(ecdh_secret.error());

  // RFC 8291 section 3.4: the input keying material binds both public keys and the auth secret.
  std::string key_info(kKeyInfo);
  key_info += ua_public;
  key_info += *as_public;
  const auto ikm = hkdf_sha256(auth_secret, *ecdh_secret, key_info, kIkmBytes);
  if (!ikm) return std::unexpected(ikm.error());
  // RFC 8188 section 2.2-2.3; the nonce of record 0 is the derived nonce itself.
  const auto cek = hkdf_sha256(salt, *ikm, kCekInfo, kCekBytes);
  if (!cek) return std::unexpected(cek.error());
  const auto nonce = hkdf_sha256(salt, *ikm, kNonceInfo, kNonceBytes);
  if (!nonce) return std::unexpected(nonce.error());
  auto record = seal_record(*cek, *nonce, plaintext);
  if (!record) return std::unexpected(record.error());

  // RFC 8188 section 2.1: salt || rs (uint32, big endian) || idlen || keyid.
  std::string body;
  body.reserve(kHeaderBytes + record->size());
  body += salt;
  for (const int shift : {24, 16, 8, 0})
    body.push_back(static_cast<char>((kPushRecordSize >> shift) & 0xff));
  body.push_back(static_cast<char>(kP256PointBytes));
  body += *as_public;
  body += *record;
  return body;
}

std::string push_audience(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const std::string scheme = lowercase(url.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);  // user info is no part of an origin

  std::string_view host = authority;
  std::string_view port;
  const std::size_t bracket = authority.starts_with('[') ? authority.find(']') : 0;
  if (bracket == std::string_view::npos) return {};
  if (const auto colon = authority.find(':', bracket); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return {};
  // The origin's port is the number, without leading zeros, and none when it is the default.
  unsigned long number = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') return {};
    number = number * 10 + static_cast<unsigned long>(c - '0');
    if (number > 65535) return {};
  }
  std::string audience = scheme + "://" + lowercase(host);
  const unsigned long default_port = scheme == "https" ? 443 : 80;
  if (!port.empty() && number != default_port) audience += ":" + std::to_string(number);
  return audience;
}

core::Result<std::string> raw_public_key(const SigningKey& key) {
  if (key.alg != Algorithm::ES256)
    return bad_request("key " + key.kid + " is not an ES256 (P-256) key");
  // The JWK holds the point's coordinates already, each padded to 32 bytes.
  const auto coordinate = [&](const char* name) -> std::optional<std::string> {
    const auto* value = key.public_jwk().if_contains(name);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    auto bytes = base64url_decode(value->as_string());
    if (!bytes || bytes->size() != kP256CoordinateBytes) return std::nullopt;
    return bytes;
  };
  const auto x = coordinate("x");
  const auto y = coordinate("y");
  if (!x || !y) return internal("key " + key.kid + ": its JWK has no P-256 point");
  std::string point(1, static_cast<char>(kUncompressedPoint));
  point += *x;
  point += *y;
  return point;
}

core::Result<std::string> vapid_authorization(const SigningKey& key, std::string_view endpoint_url,
                                              std::string_view subject, std::int64_t now_s) {
  if (!core::is_https_or_loopback_url(endpoint_url))
    return bad_request("a push endpoint must be an https URL");
  const std::string audience = push_audience(endpoint_url);
  if (audience.empty()) return bad_request("a push endpoint must be an https URL");
  // RFC 8292 section 2.1: the contact a push service may use when the sender misbehaves.
  if (!subject.starts_with("mailto:") && !subject.starts_with("https:"))
    return bad_request("a VAPID subject must be a mailto: or https: URL");
  auto k = raw_public_key(key);
  if (!k) return std::unexpected(k.error());
  auto jwt = sign_jwt(
      key, boost::json::object{
               {"aud", audience}, {"exp", now_s + kVapidTokenLifetimeS}, {"sub", subject}});
  if (!jwt) return std::unexpected(jwt.error());
  return "vapid t=" + *jwt + ", k=" + base64url_encode(*k);
}

}  // namespace waitroom::token
