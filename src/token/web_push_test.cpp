#include "token/web_push.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

#include "token/base64url.hpp"
#include "token/hmac_sha256.hpp"
#include "token/jws.hpp"
#include "token/public_key.hpp"

namespace waitroom::token {
namespace {

constexpr std::int64_t kPushNow = 1'800'000'000;

// RFC 8291 section 5 (and appendix A), verbatim.
constexpr std::string_view kRfcPlaintext = "When I grow up, I want to be a watermelon";
constexpr std::string_view kRfcAsPublic =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
constexpr std::string_view kRfcAsPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
constexpr std::string_view kRfcUaPublic =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr std::string_view kRfcUaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
constexpr std::string_view kRfcSalt = "DGv6ra1nlYgDCS1FRnbzlw";
constexpr std::string_view kRfcAuthSecret = "BTBZMqHH6r4Tts7J_aSIgg";
constexpr std::string_view kRfcBody =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6T"
    "lzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4"
    "a-fN";

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, PkeyFree>;

std::string b64(std::string_view text) { return base64url_decode(text).value(); }

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A P-256 key pair from its raw private scalar and uncompressed public point, checked to match.
Owned<EVP_PKEY> p256_key_pair(std::string_view d, std::string_view point) {
  const Owned<BIGNUM> priv(BN_bin2bn(bytes_of(d), static_cast<int>(d.size()), nullptr));
  const Owned<OSSL_PARAM_BLD> build(OSSL_PARAM_BLD_new());
  EXPECT_TRUE(priv && build);
  EXPECT_EQ(
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
  EXPECT_EQ(OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()), 1);
  EXPECT_EQ(OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                             point.size()),
            1);
  const Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(build.get()));
  const Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()), 1);
  Owned<EVP_PKEY> pair(key);
  const Owned<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  EXPECT_EQ(EVP_PKEY_pairwise_check(check.get()), 1) << "the private key is not the point's";
  return pair;
}

std::string public_point(EVP_PKEY* key) {
  std::string point(kP256PointBytes, '\0');
  std::size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            reinterpret_cast<unsigned char*>(point.data()),
                                            point.size(), &len),
            1);
  EXPECT_EQ(len, kP256PointBytes);
  return point;
}

// HKDF-SHA256 written out with HMAC (RFC 5869), independently of the code under test's EVP_KDF:
// one expansion block is all that is ever needed here.
std::string hkdf(std::string_view salt, std::string_view ikm, std::string_view info,
                 std::size_t length) {
  const std::string prk = hmac_sha256(salt, ikm);
  std::string t(info);
  t.push_back('\x01');
  return hmac_sha256(prk, t).substr(0, length);
}

// The user agent's side of RFC 8291 and RFC 8188: what a browser does with a push message. Only
// the single-record messages the server sends are understood.
std::optional<std::string> decrypt_push_message(std::string_view body, EVP_PKEY* ua_key,
                                                std::string_view auth_secret) {
  if (body.size() < 21) return std::nullopt;
  const std::string_view salt = body.substr(0, 16);
  const std::uint32_t rs = (std::uint32_t{static_cast<unsigned char>(body[16])} << 24) |
                           (std::uint32_t{static_cast<unsigned char>(body[17])} << 16) |
                           (std::uint32_t{static_cast<unsigned char>(body[18])} << 8) |
                           std::uint32_t{static_cast<unsigned char>(body[19])};
  const std::size_t idlen = static_cast<unsigned char>(body[20]);
  if (idlen != 65 || body.size() < 21 + idlen + 17) return std::nullopt;
  const std::string_view as_public = body.substr(21, idlen);
  const std::string_view record = body.substr(21 + idlen);
  if (record.size() > rs) return std::nullopt;  // more than one record

  // The sender's key, then ECDH with our private key.
  const Owned<EVP_PKEY_CTX> from(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("prime256v1"),
                                       0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<char*>(as_public.data()), as_public.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw_peer = nullptr;
  if (EVP_PKEY_fromdata_init(from.get()) != 1 ||
      EVP_PKEY_fromdata(from.get(), &raw_peer, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return std::nullopt;
  const Owned<EVP_PKEY> peer(raw_peer);
  const Owned<EVP_PKEY_CTX> derive(EVP_PKEY_CTX_new_from_pkey(nullptr, ua_key, nullptr));
  std::string ecdh_secret(32, '\0');
  std::size_t len = ecdh_secret.size();
  if (EVP_PKEY_derive_init(derive.get()) != 1 ||
      EVP_PKEY_derive_set_peer(derive.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(derive.get(), reinterpret_cast<unsigned char*>(ecdh_secret.data()), &len) !=
          1)
    return std::nullopt;

  std::string key_info("WebPush: info", 13);
  key_info.push_back('\0');
  key_info += public_point(ua_key);
  key_info += as_public;
  const std::string ikm = hkdf(auth_secret, ecdh_secret, key_info, 32);
  const std::string cek = hkdf(salt, ikm, std::string("Content-Encoding: aes128gcm\0", 28), 16);
  const std::string nonce = hkdf(salt, ikm, std::string("Content-Encoding: nonce\0", 24), 12);

  const std::string_view ciphertext = record.substr(0, record.size() - 16);
  std::string tag(record.substr(record.size() - 16));
  std::string padded(ciphertext.size(), '\0');
  int out_len = 0, tail = 0;
  const Owned<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, bytes_of(cek), bytes_of(nonce)) !=
          1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(padded.data()), &out_len,
                        bytes_of(ciphertext), static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(padded.data()) + out_len,
                          &tail) != 1)
    return std::nullopt;
  // RFC 8188 section 2: zeros may follow the delimiter, which is 2 in the last record.
  const std::size_t delimiter = padded.find_last_not_of('\0');
  if (delimiter == std::string::npos || padded[delimiter] != '\x02') return std::nullopt;
  padded.resize(delimiter);
  return padded;
}

struct UserAgent {
  Owned<EVP_PKEY> key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  std::string p256dh = public_point(key.get());
  std::string auth = [] {
    std::string secret(kPushAuthSecretBytes, '\0');
    EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), 16), 1);
    return secret;
  }();
};

TEST(WebPush, ReproducesRfc8291Example) {
  const auto as_key = p256_key_pair(b64(kRfcAsPrivate), b64(kRfcAsPublic));
  const auto body = encrypt_push_message(kRfcPlaintext, b64(kRfcUaPublic), b64(kRfcAuthSecret),
                                         b64(kRfcSalt), as_key.get());
  ASSERT_TRUE(body) << body.error().detail;
  EXPECT_EQ(base64url_encode(*body), kRfcBody);

  // And the receiver side written here reads the RFC's message, so it is a fair judge below.
  const auto ua_key = p256_key_pair(b64(kRfcUaPrivate), b64(kRfcUaPublic));
  EXPECT_EQ(decrypt_push_message(b64(kRfcBody), ua_key.get(), b64(kRfcAuthSecret)), kRfcPlaintext);
}

TEST(WebPush, RoundTripsWithFreshKeysAndSalt) {
  const UserAgent ua;
  const std::string plaintext = R"({"room":"sale","kind":"almost_your_turn"})";
  const auto body = encrypt_push_message(plaintext, ua.p256dh, ua.auth);
  ASSERT_TRUE(body) << body.error().detail;
  EXPECT_EQ(body->size(), 86 + plaintext.size() + 1 + 16);
  EXPECT_EQ(body->substr(16, 5), std::string("\x00\x00\x10\x00\x41", 5));  // rs 4096, idlen 65
  EXPECT_EQ((*body)[21], '\x04');
  EXPECT_EQ(decrypt_push_message(*body, ua.key.get(), ua.auth), plaintext);

  // Each message has its own salt and sender key.
  const auto again = encrypt_push_message(plaintext, ua.p256dh, ua.auth).value();
  EXPECT_NE(again.substr(0, 16), body->substr(0, 16));
  EXPECT_NE(again.substr(21, 65), body->substr(21, 65));
  EXPECT_EQ(decrypt_push_message(again, ua.key.get(), ua.auth), plaintext);

  // Only the subscription's key and auth secret read it, and any change is detected.
  const UserAgent other;
  EXPECT_FALSE(decrypt_push_message(*body, other.key.get(), ua.auth));
  EXPECT_FALSE(decrypt_push_message(*body, ua.key.get(), other.auth));
  std::string tampered = *body;
  tampered[90] = static_cast<char>(tampered[90] ^ 1);
  EXPECT_FALSE(decrypt_push_message(tampered, ua.key.get(), ua.auth));
}

TEST(WebPush, FillsOneRecordAtMostAndTakesAnEmptyMessage) {
  const UserAgent ua;
  const std::string largest(kMaxPushPlaintextBytes, 'x');
  const auto body = encrypt_push_message(largest, ua.p256dh, ua.auth);
  ASSERT_TRUE(body) << body.error().detail;
  EXPECT_EQ(body->size(), kPushRecordSize);
  EXPECT_EQ(decrypt_push_message(*body, ua.key.get(), ua.auth), largest);

  const auto too_big = encrypt_push_message(largest + "x", ua.p256dh, ua.auth);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, core::ErrorCode::payload_too_large);

  const auto empty = encrypt_push_message("", ua.p256dh, ua.auth);
  ASSERT_TRUE(empty);
  EXPECT_EQ(decrypt_push_message(*empty, ua.key.get(), ua.auth), "");
}

TEST(WebPush, RefusesKeysOffTheCurveAndBadAuthSecrets) {
  const UserAgent ua;
  auto refused = [&](std::string_view p256dh, std::string_view auth) {
    const auto body = encrypt_push_message("hello", p256dh, auth);
    return !body && body.error().code == core::ErrorCode::bad_request;
  };
  EXPECT_TRUE(refused(ua.p256dh.substr(0, 64), ua.auth));
  EXPECT_TRUE(refused(ua.p256dh + "x", ua.auth));
  EXPECT_TRUE(refused("", ua.auth));
  std::string off_curve = ua.p256dh;
  off_curve[64] = static_cast<char>(off_curve[64] ^ 1);  // y changed: no longer on the curve
  EXPECT_TRUE(refused(off_curve, ua.auth));
  std::string compressed = ua.p256dh.substr(0, 33);  // 0x02/0x03 || x is not what push sends
  compressed[0] = '\x02';
  EXPECT_TRUE(refused(compressed, ua.auth));
  std::string not_uncompressed = ua.p256dh;
  not_uncompressed[0] = '\x02';
  EXPECT_TRUE(refused(not_uncompressed, ua.auth));
  EXPECT_TRUE(refused(std::string(65, '\0'), ua.auth));
  EXPECT_TRUE(refused(ua.p256dh, ua.auth.substr(0, 15)));
  EXPECT_TRUE(refused(ua.p256dh, ua.auth + "x"));
  EXPECT_TRUE(refused(ua.p256dh, ""));
}

TEST(WebPush, AudienceIsTheEndpointsOrigin) {
  EXPECT_EQ(push_audience("https://fcm.googleapis.com/fcm/send/abc:def"),
            "https://fcm.googleapis.com");
  EXPECT_EQ(push_audience("https://Updates.Push.Services.Mozilla.com:443/wpush/v2/gAAA"),
            "https://updates.push.services.mozilla.com");
  EXPECT_EQ(push_audience("HTTPS://push.example:8443/p?x=1"), "https://push.example:8443");
  EXPECT_EQ(push_audience("https://push.example:08443"), "https://push.example:8443");
  EXPECT_EQ(push_audience("https://push.example:"), "https://push.example");
  EXPECT_EQ(push_audience("https://user:pw@push.example/x"), "https://push.example");
  EXPECT_EQ(push_audience("http://127.0.0.1:80/push"), "http://127.0.0.1");
  EXPECT_EQ(push_audience("http://127.0.0.1:9000/push"), "http://127.0.0.1:9000");
  EXPECT_EQ(push_audience("http://[::1]:9000/push#x"), "http://[::1]:9000");
  EXPECT_EQ(push_audience("https://[::1]/push"), "https://[::1]");
  for (std::string_view bad :
       {"", "push.example/x", "ftp://push.example/", "https:///path", "https://push.example:99999/",
        "https://push.example:8a/", "https://[::1/", "https://:443/"})
    EXPECT_EQ(push_audience(bad), "") << bad;
}

TEST(WebPush, RawPublicKeyIsTheUncompressedPoint) {
  const auto key = SigningKey::generate(Algorithm::ES256, kPushNow).value();
  const auto point = raw_public_key(key);
  ASSERT_TRUE(point) << point.error().detail;
  ASSERT_EQ(point->size(), kP256PointBytes);
  EXPECT_EQ((*point)[0], '\x04');
  EXPECT_EQ(point->substr(1, 32), b64(key.public_jwk().at("x").as_string()));
  EXPECT_EQ(point->substr(33), b64(key.public_jwk().at("y").as_string()));
  EXPECT_FALSE(raw_public_key(SigningKey::generate(Algorithm::RS256, kPushNow).value()));
}

TEST(WebPush, VapidAuthorizationIsAJwtTheKeyInKVerifies) {
  const auto key = SigningKey::generate(Algorithm::ES256, kPushNow).value();
  const auto header = vapid_authorization(key, "https://push.example.net:8443/send/abc",
                                          "mailto:ops@example.com", kPushNow);
  ASSERT_TRUE(header) << header.error().detail;
  ASSERT_TRUE(header->starts_with("vapid t="));
  const std::size_t k_at = header->find(", k=");
  ASSERT_NE(k_at, std::string::npos);
  const std::string jwt = header->substr(8, k_at - 8);
  const auto k = base64url_decode(header->substr(k_at + 4));
  ASSERT_TRUE(k);
  ASSERT_EQ(k->size(), kP256PointBytes);
  EXPECT_EQ((*k)[0], '\x04');
  EXPECT_EQ(*k, raw_public_key(key).value());

  const auto token = parse_jwt(jwt);
  ASSERT_TRUE(token) << token.error().detail;
  EXPECT_EQ(token->alg, "ES256");
  const auto header_json = boost::json::parse(b64(jwt.substr(0, jwt.find('.')))).as_object();
  EXPECT_EQ(header_json.at("typ"), "JWT");
  // What the push service does: check the signature with the key k names, and nothing else.
  const auto k_key = public_key_from_jwk({{"kty", "EC"},
                                          {"crv", "P-256"},
                                          {"x", base64url_encode(k->substr(1, 32))},
                                          {"y", base64url_encode(k->substr(33))}},
                                         Algorithm::ES256);
  ASSERT_TRUE(k_key) << k_key.error();
  EXPECT_TRUE(
      verify_signature(k_key->get(), Algorithm::ES256, token->signing_input, token->signature));
  const auto claims = verify_jwt(*token, key);
  ASSERT_TRUE(claims) << claims.error().detail;
  EXPECT_EQ(claims->at("aud"), "https://push.example.net:8443");
  EXPECT_EQ(claims->at("exp"), kPushNow + 12 * 3600);
  EXPECT_LE(claims->at("exp").as_int64(), kPushNow + 24 * 3600);  // RFC 8292 section 2
  EXPECT_EQ(claims->at("sub"), "mailto:ops@example.com");
  EXPECT_EQ(claims->size(), 3u);

  const auto other = SigningKey::generate(Algorithm::ES256, kPushNow).value();
  EXPECT_FALSE(verify_signature(public_key_from_jwk(other.public_jwk(), Algorithm::ES256)->get(),
                                Algorithm::ES256, token->signing_input, token->signature));
}

TEST(WebPush, VapidRefusesBadEndpointsSubjectsAndKeys) {
  const auto key = SigningKey::generate(Algorithm::ES256, kPushNow).value();
  const std::string endpoint = "https://push.example/send/abc";
  EXPECT_TRUE(vapid_authorization(key, endpoint, "https://shop.example/contact", kPushNow));
  EXPECT_TRUE(
      vapid_authorization(key, "http://127.0.0.1:9000/push", "mailto:a@b.example", kPushNow));
  auto refused = [&](const SigningKey& k, std::string_view url, std::string_view subject) {
    const auto header = vapid_authorization(k, url, subject, kPushNow);
    return !header && header.error().code == core::ErrorCode::bad_request;
  };
  EXPECT_TRUE(refused(key, "http://push.example/send/abc", "mailto:a@b.example"));
  EXPECT_TRUE(refused(key, "not a url", "mailto:a@b.example"));
  EXPECT_TRUE(refused(key, endpoint, "ops@example.com"));
  EXPECT_TRUE(refused(key, endpoint, ""));
  EXPECT_TRUE(refused(SigningKey::generate(Algorithm::RS256, kPushNow).value(), endpoint,
                      "mailto:a@b.example"));
}

}  // namespace
}  // namespace waitroom::token
