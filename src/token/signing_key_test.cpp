#include "token/signing_key.hpp"

#include <gtest/gtest.h>

#include "testing/fixed_time.hpp"
#include "token/base64url.hpp"

namespace waitroom::token {
namespace {

using testing::kNow;

TEST(SigningKey, KidShape) {
  EXPECT_TRUE(is_valid_kid("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(is_valid_kid("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(is_valid_kid("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(is_valid_kid("../../../../etc/passwd0123456789"));
  EXPECT_FALSE(is_valid_kid(""));
}

TEST(SigningKey, GeneratesBothAlgorithms) {
  for (const Algorithm alg : kAllAlgorithms) {
    const auto key = SigningKey::generate(alg, kNow);
    ASSERT_TRUE(key) << key.error().detail;
    EXPECT_TRUE(is_valid_kid(key->kid));
    EXPECT_EQ(key->alg, alg);
    EXPECT_EQ(key->created_at_s, kNow);
    EXPECT_FALSE(key->retired_at_s.has_value());
  }
  EXPECT_NE(SigningKey::generate(Algorithm::ES256, kNow)->kid,
            SigningKey::generate(Algorithm::ES256, kNow)->kid);
}

TEST(SigningKey, Es256SignatureIsRaw64Bytes) {
  const auto key = SigningKey::generate(Algorithm::ES256, kNow).value();
  for (int i = 0; i < 50; ++i) {  // DER lengths vary with leading zeros; raw never does
    const auto sig = key.sign("data" + std::to_string(i));
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->size(), kEs256SignatureBytes);
    EXPECT_TRUE(key.verify("data" + std::to_string(i), *sig));
  }
}

TEST(SigningKey, Rs256SignatureIsModulusSized) {
  const auto key = SigningKey::generate(Algorithm::RS256, kNow).value();
  const auto sig = key.sign("data");
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 256u);
  EXPECT_TRUE(key.verify("data", *sig));
  EXPECT_EQ(key.sign("data").value(), *sig);  // PKCS#1 v1.5 is deterministic
}

TEST(SigningKey, VerifyRejectsWrongDataSignatureAndKey) {
  for (const Algorithm alg : kAllAlgorithms) {
    const auto key = SigningKey::generate(alg, kNow).value();
    const auto other = SigningKey::generate(alg, kNow).value();
    const std::string sig = key.sign("data").value();
    EXPECT_FALSE(key.verify("datA", sig));
    EXPECT_FALSE(other.verify("data", sig));
    std::string flipped = sig;
    flipped[flipped.size() / 2] ^= 0x01;
    EXPECT_FALSE(key.verify("data", flipped));
    EXPECT_FALSE(key.verify("data", sig.substr(1)));
    EXPECT_FALSE(key.verify("data", sig + '\0'));
    EXPECT_FALSE(key.verify("data", ""));
    EXPECT_FALSE(key.verify("data", std::string(sig.size(), '\0')));
  }
}

TEST(SigningKey, PemRoundTripKeepsTheKey) {
  for (const Algorithm alg : kAllAlgorithms) {
    const auto key = SigningKey::generate(alg, kNow).value();
    const std::string pem = key.private_pem().value();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
    const auto loaded = SigningKey::from_pem(pem, key.kid, alg, kNow, kNow + 5);
    ASSERT_TRUE(loaded) << loaded.error().detail;
    EXPECT_EQ(loaded->retired_at_s, kNow + 5);
    EXPECT_TRUE(loaded->verify("data", key.sign("data").value()));
    EXPECT_TRUE(key.verify("data", loaded->sign("data").value()));
    EXPECT_EQ(loaded->public_jwk(), key.public_jwk());
  }
}

TEST(SigningKey, FromPemRejectsMismatchedTypeAndGarbage) {
  const auto ec = SigningKey::generate(Algorithm::ES256, kNow).value();
  const auto rsa = SigningKey::generate(Algorithm::RS256, kNow).value();
  EXPECT_FALSE(SigningKey::from_pem(ec.private_pem().value(), ec.kid, Algorithm::RS256, kNow, {}));
  EXPECT_FALSE(
      SigningKey::from_pem(rsa.private_pem().value(), rsa.kid, Algorithm::ES256, kNow, {}));
  EXPECT_FALSE(SigningKey::from_pem("not a pem", ec.kid, Algorithm::ES256, kNow, {}));
  EXPECT_FALSE(SigningKey::from_pem("", ec.kid, Algorithm::ES256, kNow, {}));
}

TEST(SigningKey, CopiesShareTheKey) {
  const auto key = SigningKey::generate(Algorithm::ES256, kNow).value();
  SigningKey copy = key;
  copy.retired_at_s = kNow + 1;
  EXPECT_FALSE(key.retired_at_s.has_value());
  EXPECT_TRUE(key.verify("x", copy.sign("x").value()));
  SigningKey moved = std::move(copy);
  EXPECT_TRUE(key.verify("y", moved.sign("y").value()));
  copy = moved;  // assign into a moved-from object
  EXPECT_TRUE(key.verify("z", copy.sign("z").value()));
}

TEST(SigningKey, EcJwkShape) {
  const auto key = SigningKey::generate(Algorithm::ES256, kNow).value();
  const auto& jwk = key.public_jwk();
  EXPECT_EQ(jwk.size(), 7u);
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(jwk.at("alg"), "ES256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("kid").as_string(), key.kid);
  EXPECT_EQ(base64url_decode(jwk.at("x").as_string()).value().size(), 32u);
  EXPECT_EQ(base64url_decode(jwk.at("y").as_string()).value().size(), 32u);
  EXPECT_FALSE(jwk.contains("d"));
}

TEST(SigningKey, RsaJwkShape) {
  const auto key = SigningKey::generate(Algorithm::RS256, kNow).value();
  const auto& jwk = key.public_jwk();
  EXPECT_EQ(jwk.size(), 6u);
  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("alg"), "RS256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("kid").as_string(), key.kid);
  EXPECT_EQ(jwk.at("e"), "AQAB");  // 65537 without leading zeros
  const std::string n = base64url_decode(jwk.at("n").as_string()).value();
  EXPECT_EQ(n.size(), 256u);
  EXPECT_NE(n[0], '\0');
  EXPECT_FALSE(jwk.contains("d"));
}

}  // namespace
}  // namespace waitroom::token
