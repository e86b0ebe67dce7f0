#include "token/invitation.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "testing/fixed_time.hpp"
#include "testing/test_certificates.hpp"
#include "token/base64url.hpp"
#include "token/hmac_sha256.hpp"
#include "token/jwk_set.hpp"
#include "token/jws.hpp"
#include "token/public_key.hpp"
#include "token/signing_key.hpp"

namespace waitroom::token {
namespace {

using testing::kNow;

constexpr std::string_view kInviteRoom = "launch";
constexpr std::string_view kInviteSecret = "a shared secret of at least 32 bytes, as HS256 needs";

using InvitePkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// The SubjectPublicKeyInfo PEM of a key pair, as a site registers it.
std::string invite_public_pem(EVP_PKEY* pkey) {
  return testing::pem_of(
      [](BIO* b, void* k) { return PEM_write_bio_PUBKEY(b, static_cast<EVP_PKEY*>(k)); }, pkey);
}

std::string invite_public_pem(const SigningKey& key) {
  const std::string private_pem = key.private_pem().value();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), &BIO_free);
  InvitePkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  return invite_public_pem(pkey.get());
}

SigningKey invite_key(Algorithm alg, std::string kid) {
  SigningKey key = SigningKey::generate(alg, kNow).value();
  key.kid = std::move(kid);
  return key;
}

// The site's keys, made once: RSA key generation is slow under the sanitizers.
struct InviteKeys {
  SigningKey es256 = invite_key(Algorithm::ES256, "site-es");
  SigningKey rs256 = invite_key(Algorithm::RS256, "site-rs");
  std::string es256_pem = invite_public_pem(es256);
  std::string rs256_pem = invite_public_pem(rs256);
};
const InviteKeys& invite_keys() {
  static const InviteKeys keys;
  return keys;
}

core::InvitationSettings invite_settings() {
  const InviteKeys& keys = invite_keys();
  core::InvitationSettings settings;
  settings.invite_only = true;
  settings.keys = {
      {.kid = "site-es", .alg = "ES256", .public_key = keys.es256_pem, .secret = ""},
      {.kid = "site-rs", .alg = "RS256", .public_key = keys.rs256_pem, .secret = ""},
      {.kid = "site-hs", .alg = "HS256", .public_key = "", .secret = std::string(kInviteSecret)}};
  return settings;
}

boost::json::object invite_claims() {
  return {{"sub", "account-42"}, {"jti", "invite-1"}, {"aud", kInviteRoom}, {"exp", kNow + 600},
          {"iat", kNow},         {"lane", "members"}, {"ip", "192.0.2.7"}};
}

// header.payload.signature with any header, signed by `sign` over the signing input.
std::string invite_jwt(const boost::json::object& header, const boost::json::object& claims,
                       const std::function<std::string(std::string_view)>& sign) {
  const std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                            base64url_encode(boost::json::serialize(claims));
  return input + "." + base64url_encode(sign(input));
}

std::string invite_hs256(const boost::json::object& claims, std::string_view kid = "site-hs",
                         std::string_view secret = kInviteSecret) {
  return invite_jwt({{"alg", "HS256"}, {"kid", kid}, {"typ", "JWT"}}, claims,
                    [&](std::string_view input) { return hmac_sha256(secret, input); });
}

std::string invite_es256(const boost::json::object& claims) {
  return sign_jwt(invite_keys().es256, claims).value();
}

core::Result<Invitation> invite_verify(std::string_view jwt) {
  return verify_invitation(jwt, invite_settings(), kInviteRoom, kNow);
}

// Why `jwt` is refused; fails the test unless it is, as unauthorized with a message that says
// it is about the invitation.
std::string invite_refusal(std::string_view jwt) {
  const auto result = invite_verify(jwt);
  if (result) {
    ADD_FAILURE() << "accepted: " << jwt;
    return "";
  }
  EXPECT_EQ(result.error().code, core::ErrorCode::unauthorized) << result.error().detail;
  EXPECT_EQ(result.error().detail.rfind("invitation ", 0), 0u) << result.error().detail;
  return result.error().detail;
}

std::string invite_refusal_of(boost::json::object claims) {
  return invite_refusal(invite_es256(claims));
}

void expect_invitation_claims(const core::Result<Invitation>& invitation) {
  ASSERT_TRUE(invitation) << invitation.error().detail;
  EXPECT_EQ(invitation->sub, "account-42");
  EXPECT_EQ(invitation->jti, "invite-1");
  EXPECT_EQ(invitation->lane, "members");
  EXPECT_EQ(invitation->ip, "192.0.2.7");
  EXPECT_EQ(invitation->exp_s, kNow + 600);
}

TEST(InvitationTest, AcceptsEachKindOfKey) {
  expect_invitation_claims(invite_verify(invite_es256(invite_claims())));
  expect_invitation_claims(invite_verify(sign_jwt(invite_keys().rs256, invite_claims()).value()));
  expect_invitation_claims(invite_verify(invite_hs256(invite_claims())));
}

TEST(InvitationTest, LaneAndIpAreOptional) {
  boost::json::object claims = invite_claims();
  claims.erase("lane");
  claims.erase("ip");
  const auto invitation = invite_verify(invite_es256(claims));
  ASSERT_TRUE(invitation) << invitation.error().detail;
  EXPECT_EQ(invitation->lane, std::nullopt);
  EXPECT_EQ(invitation->ip, std::nullopt);
}

TEST(InvitationTest, RefusesUnsignedTokens) {
  const boost::json::object header{{"alg", "none"}, {"kid", "site-es"}, {"typ", "JWT"}};
  const std::string unsigned_token = base64url_encode(boost::json::serialize(header)) + "." +
                                     base64url_encode(boost::json::serialize(invite_claims())) +
                                     ".";
  invite_refusal(unsigned_token);
  // With something in the signature's place, it is the alg that refuses it.
  EXPECT_NE(invite_refusal(invite_jwt(header, invite_claims(),
                                      [](std::string_view) { return std::string("x"); }))
                .find(R"(header names alg "none" but key "site-es" is ES256)"),
            std::string::npos);
}

TEST(InvitationTest, RefusesHs256KeyedWithThePublicKey) {
  // The classic forgery: the public PEM is no secret, so an HMAC keyed with it is easy to make.
  const std::string forged = invite_hs256(invite_claims(), "site-es", invite_keys().es256_pem);
  EXPECT_NE(invite_refusal(forged).find("alg \"HS256\""), std::string::npos);
}

TEST(InvitationTest, RefusesAnotherKeysSignature) {
  SigningKey stranger = invite_key(Algorithm::ES256, "site-es");
  EXPECT_NE(invite_refusal(sign_jwt(stranger, invite_claims()).value())
                .find(R"(signature does not verify with key "site-es")"),
            std::string::npos);
  invite_refusal(invite_hs256(invite_claims(), "site-hs", "another secret of more than 32 bytes"));
}

TEST(InvitationTest, NeverTrustsAnEmptySecret) {
  core::InvitationSettings settings = invite_settings();
  settings.keys[2].secret.clear();  // core::validate refuses this; here it must not matter
  const auto result =
      verify_invitation(invite_hs256(invite_claims(), "site-hs", ""), settings, kInviteRoom, kNow);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().detail,
            R"(invitation key "site-hs" of room "launch" cannot check signatures: its secret is )"
            "too short");
}

TEST(InvitationTest, RefusesATamperedPayload) {
  for (const std::string& signed_token :
       {invite_es256(invite_claims()), invite_hs256(invite_claims()),
        sign_jwt(invite_keys().rs256, invite_claims()).value()}) {
    boost::json::object richer = invite_claims();
    richer["lane"] = "vip";
    const std::size_t dot1 = signed_token.find('.');
    const std::size_t dot2 = signed_token.find('.', dot1 + 1);
    const std::string tampered = signed_token.substr(0, dot1 + 1) +
                                 base64url_encode(boost::json::serialize(richer)) +
                                 signed_token.substr(dot2);
    EXPECT_NE(invite_refusal(tampered).find("signature does not verify"), std::string::npos);
  }
}

TEST(InvitationTest, RefusesAnUnknownKid) {
  SigningKey unknown = invite_key(Algorithm::ES256, "nobody");
  EXPECT_NE(invite_refusal(sign_jwt(unknown, invite_claims()).value())
                .find(R"(no key "nobody" is registered in room "launch")"),
            std::string::npos);
}

TEST(InvitationTest, ChecksExpiryWithinTheLeeway) {
  boost::json::object claims = invite_claims();
  claims["exp"] = kNow - kInvitationLeewayS + 1;
  EXPECT_TRUE(invite_verify(invite_es256(claims)));
  claims["exp"] = kNow - kInvitationLeewayS;
  EXPECT_NE(invite_refusal_of(claims).find("expired"), std::string::npos);
  claims.erase("exp");
  EXPECT_EQ(invite_refusal_of(claims), "invitation has no exp");
  claims["exp"] = "tomorrow";
  EXPECT_NE(invite_refusal_of(claims).find("exp is not a number"), std::string::npos);
}

TEST(InvitationTest, RefusesAnExpTooFarAhead) {
  boost::json::object claims = invite_claims();
  claims["exp"] = kNow + core::kMaxInvitationLifetimeS;
  EXPECT_TRUE(invite_verify(invite_es256(claims)));
  claims["exp"] = kNow + core::kMaxInvitationLifetimeS + kInvitationLeewayS + 1;
  EXPECT_NE(invite_refusal_of(claims).find("s ahead"), std::string::npos);
  claims["exp"] = 1e300;  // clamped, not overflowed
  invite_refusal_of(claims);
}

TEST(InvitationTest, RefusesNbfAndIatInTheFuture) {
  for (const char* name : {"nbf", "iat"}) {
    boost::json::object claims = invite_claims();
    claims[name] = kNow + kInvitationLeewayS;
    EXPECT_TRUE(invite_verify(invite_es256(claims))) << name;
    claims[name] = kNow + kInvitationLeewayS + 1;
    EXPECT_NE(invite_refusal_of(claims).find("is in the future"), std::string::npos) << name;
  }
}

TEST(InvitationTest, AudMustBeTheRoom) {
  boost::json::object claims = invite_claims();
  claims["aud"] = boost::json::array{"other", kInviteRoom};
  EXPECT_TRUE(invite_verify(invite_es256(claims)));
  for (const boost::json::value& aud :
       {boost::json::value("other"), boost::json::value(boost::json::array{"other", "shop"}),
        boost::json::value(boost::json::array{}), boost::json::value(7)}) {
    claims["aud"] = aud;
    EXPECT_NE(invite_refusal_of(claims).find(R"(aud is not room "launch")"), std::string::npos)
        << aud;
  }
  claims.erase("aud");
  invite_refusal_of(claims);
}

TEST(InvitationTest, SubAndJtiAreNonEmptyBoundedStrings) {
  for (const auto& [name, max_bytes] :
       {std::pair<const char*, std::size_t>{"sub", kMaxInvitationSubBytes},
        std::pair<const char*, std::size_t>{"jti", kMaxInvitationJtiBytes}}) {
    boost::json::object claims = invite_claims();
    claims[name] = std::string(max_bytes, 'a');
    EXPECT_TRUE(invite_verify(invite_es256(claims))) << name;
    claims[name] = std::string(max_bytes + 1, 'a');
    EXPECT_NE(invite_refusal_of(claims).find("is longer than"), std::string::npos) << name;
    for (const boost::json::value& bad : {boost::json::value(""), boost::json::value(42)}) {
      claims[name] = bad;
      EXPECT_NE(invite_refusal_of(claims).find(std::string("needs ") + name), std::string::npos);
    }
    claims.erase(name);
    EXPECT_NE(invite_refusal_of(claims).find(std::string("needs ") + name), std::string::npos);
  }
}

TEST(InvitationTest, LaneAndIpMustBeStrings) {
  for (const char* name : {"lane", "ip"}) {
    boost::json::object claims = invite_claims();
    claims[name] = nullptr;
    EXPECT_EQ(invite_refusal_of(claims), std::string("invitation ") + name + " is not a string");
  }
}

TEST(InvitationTest, IpMustBeAnAddress) {
  boost::json::object claims = invite_claims();
  claims["ip"] = "2001:db8::1";
  EXPECT_EQ(invite_verify(invite_es256(claims)).value().ip, "2001:db8::1");
  for (const char* bad : {"192.0.2.0/24", "192.0.2.256", "localhost", ""}) {
    claims["ip"] = bad;
    EXPECT_NE(invite_refusal_of(claims).find("is not an IPv4 or IPv6 address"), std::string::npos)
        << bad;
  }
}

TEST(InvitationTest, RefusesOversizedTokensUnread) {
  boost::json::object claims = invite_claims();
  claims["padding"] = std::string(kMaxInvitationBytes, 'p');
  EXPECT_EQ(invite_refusal(invite_es256(claims)), "invitation is longer than 4096 bytes");
  invite_refusal(std::string(kMaxInvitationBytes + 1, 'a'));
}

TEST(InvitationTest, RefusesWhatIsNotAJwt) {
  for (const char* garbage : {"", "abc", "a.b.c", "a.b.c.d"})
    EXPECT_NE(invite_refusal(garbage).find("is not a signed JWT"), std::string::npos) << garbage;
}

TEST(InvitationTest, ManyThreadsShareTheParsedKeys) {
  const std::string es = invite_es256(invite_claims());
  const std::string rs = sign_jwt(invite_keys().rs256, invite_claims()).value();
  std::vector<std::thread> threads;
  std::atomic<int> accepted = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) accepted += invite_verify(i % 2 ? es : rs).has_value();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted, 40);
}

// ---- keys from the room's JWKS ----------------------------------------------------------------

constexpr std::string_view kInviteOctK = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";

// The site's JWKS: its ES256 key as "jwks-es", its RS256 key as "jwks-rs" (and as "site-es", which
// the room's own keys name too), and an HS256 secret as "jwks-oct".
JwkSet invite_jwks() {
  boost::json::array keys;
  const auto add = [&](const SigningKey& key, std::string_view kid) {
    boost::json::object jwk = key.public_jwk();
    jwk["kid"] = kid;
    keys.push_back(std::move(jwk));
  };
  add(invite_keys().es256, "jwks-es");
  add(invite_keys().rs256, "jwks-rs");
  add(invite_keys().rs256, "site-es");
  keys.push_back({{"kty", "oct"}, {"kid", "jwks-oct"}, {"alg", "HS256"}, {"k", kInviteOctK}});
  std::vector<std::string> skipped;
  auto set = parse_jwk_set(boost::json::serialize(boost::json::object{{"keys", keys}}), &skipped);
  EXPECT_EQ(skipped.size(), 1u);
  return std::move(set).value();
}

core::InvitationSettings invite_jwks_settings() {
  core::InvitationSettings settings = invite_settings();
  settings.jwks_url = "https://site.example/jwks.json";
  return settings;
}

std::string invite_signed_as(const SigningKey& key, std::string kid) {
  SigningKey renamed = key;
  renamed.kid = std::move(kid);
  return sign_jwt(renamed, invite_claims()).value();
}

TEST(InvitationJwksTest, AJwksKeyChecksAKidTheRoomLacks) {
  const JwkSet jwks = invite_jwks();
  const auto settings = invite_jwks_settings();
  expect_invitation_claims(verify_invitation(invite_signed_as(invite_keys().es256, "jwks-es"),
                                             settings, kInviteRoom, kNow, &jwks));
  expect_invitation_claims(verify_invitation(invite_signed_as(invite_keys().rs256, "jwks-rs"),
                                             settings, kInviteRoom, kNow, &jwks));
  // Another key's signature under a JWKS kid is refused.
  const auto forged = verify_invitation(invite_signed_as(invite_keys().es256, "jwks-rs"), settings,
                                        kInviteRoom, kNow, &jwks);
  ASSERT_FALSE(forged);
  EXPECT_NE(forged.error().detail.find("RS256"), std::string::npos) << forged.error().detail;
}

TEST(InvitationJwksTest, TheRoomsOwnKeyWinsOverTheJwks) {
  const JwkSet jwks = invite_jwks();
  // "site-es" is the room's ES256 key and, in the JWKS, the RS256 key: the room's decides.
  expect_invitation_claims(verify_invitation(invite_es256(invite_claims()), invite_jwks_settings(),
                                             kInviteRoom, kNow, &jwks));
  EXPECT_FALSE(verify_invitation(invite_signed_as(invite_keys().rs256, "site-es"),
                                 invite_jwks_settings(), kInviteRoom, kNow, &jwks));
}

TEST(InvitationJwksTest, NeverUsesASymmetricKeyOrTheHeadersAlg) {
  const JwkSet jwks = invite_jwks();
  const auto secret = base64url_decode(kInviteOctK).value();
  const auto hs256 = verify_invitation(invite_hs256(invite_claims(), "jwks-oct", secret),
                                       invite_jwks_settings(), kInviteRoom, kNow, &jwks);
  ASSERT_FALSE(hs256);
  EXPECT_EQ(hs256.error().detail,
            R"(invitation is signed with key "jwks-oct", which neither the room nor its JWKS has)");
  const auto confused = verify_invitation(invite_hs256(invite_claims(), "jwks-es", secret),
                                          invite_jwks_settings(), kInviteRoom, kNow, &jwks);
  ASSERT_FALSE(confused);
  EXPECT_NE(confused.error().detail.find(R"(header names alg "HS256")"), std::string::npos)
      << confused.error().detail;
}

TEST(InvitationJwksTest, TheKidOfAnInvitation) {
  EXPECT_EQ(invitation_kid(invite_es256(invite_claims())), "site-es");
  EXPECT_EQ(invitation_kid("not a jwt"), std::nullopt);
}

// ---- check_invitation_keys ---------------------------------------------------------------------

std::string invite_key_error(std::string alg, std::string pem) {
  core::InvitationSettings settings = invite_settings();
  core::InvitationKey added{
      .kid = "new", .alg = std::move(alg), .public_key = std::move(pem), .secret = ""};
  settings.keys.insert(settings.keys.begin() + 1, std::move(added));
  const auto checked = check_invitation_keys(settings);
  if (checked) {
    ADD_FAILURE() << "the key passed";
    return "";
  }
  EXPECT_EQ(checked.error().code, core::ErrorCode::bad_request);
  return checked.error().detail;
}

TEST(InvitationKeysTest, AcceptsTheRegisteredKeys) {
  EXPECT_TRUE(check_invitation_keys(invite_settings()));
  EXPECT_TRUE(check_invitation_keys({}));
}

TEST(InvitationKeysTest, RefusesKeysThatDoNotFitTheirAlg) {
  EXPECT_EQ(invite_key_error("ES256", "not a key"),
            "invitations.keys[1].public_key: not a PEM public key (\"-----BEGIN PUBLIC "
            "KEY-----\")");
  EXPECT_EQ(invite_key_error("ES256", invite_keys().rs256_pem),
            "invitations.keys[1].public_key: ES256 needs an EC key");
  EXPECT_EQ(invite_key_error("RS256", invite_keys().es256_pem),
            "invitations.keys[1].public_key: RS256 needs an RSA key");
  const InvitePkey p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), &EVP_PKEY_free);
  EXPECT_EQ(invite_key_error("ES256", invite_public_pem(p384.get())),
            "invitations.keys[1].public_key: EC key is not on P-256");
  const InvitePkey rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}),
                           &EVP_PKEY_free);
  EXPECT_EQ(invite_key_error("RS256", invite_public_pem(rsa1024.get())),
            "invitations.keys[1].public_key: RSA key must have 2048 to 8192 bits, not 1024");
  // A private key is not what a site registers.
  EXPECT_NE(invite_key_error("ES256", invite_keys().es256.private_pem().value())
                .find("not a PEM public key"),
            std::string::npos);
}

// ---- token/public_key --------------------------------------------------------------------------

TEST(PublicKeyTest, PemAndJwkKeysVerifyWhatTheSigningKeySigned) {
  for (const SigningKey* key : {&invite_keys().es256, &invite_keys().rs256}) {
    const std::string signature = key->sign("header.payload").value();
    const auto from_pem = public_key_from_pem(invite_public_pem(*key), key->alg);
    const auto from_jwk = public_key_from_jwk(key->public_jwk(), key->alg);
    ASSERT_TRUE(from_pem) << from_pem.error();
    ASSERT_TRUE(from_jwk) << from_jwk.error();
    for (EVP_PKEY* pkey : {from_pem->get(), from_jwk->get()}) {
      EXPECT_TRUE(verify_signature(pkey, key->alg, "header.payload", signature));
      EXPECT_FALSE(verify_signature(pkey, key->alg, "header.payload!", signature));
      EXPECT_FALSE(verify_signature(pkey, key->alg, "header.payload", signature.substr(1)));
      EXPECT_FALSE(verify_signature(pkey, key->alg, "header.payload", ""));
    }
  }
}

TEST(PublicKeyTest, JwkMustBeOfTheAlgsKeyType) {
  EXPECT_EQ(public_key_from_jwk(invite_keys().rs256.public_jwk(), Algorithm::ES256).error(),
            "ES256 needs an EC key");
  EXPECT_EQ(public_key_from_jwk(invite_keys().es256.public_jwk(), Algorithm::RS256).error(),
            "RS256 needs an RSA key");
  boost::json::object off_curve = invite_keys().es256.public_jwk();
  off_curve["y"] = off_curve["x"];
  EXPECT_EQ(public_key_from_jwk(off_curve, Algorithm::ES256).error(),
            "EC key is not a valid P-256 point");
}

}  // namespace
}  // namespace waitroom::token
