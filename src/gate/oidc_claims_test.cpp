#include "gate/oidc_claims.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace waitroom::gate {
namespace {

TokenFacts facts() {
  TokenFacts f;
  f.issuer = "https://queue.example/oidc/sale";
  f.subject = oidc_subject("sale", "ticket-1");
  f.client_id = "shop";
  f.nonce = "n-1";
  f.room = "sale";
  f.access_jti = "j";
  f.auth_time_s = 1'000;
  f.issued_at_s = 1'010;
  f.expires_at_s = 1'900;
  f.queue_position = 42;
  return f;
}

TEST(OidcClaims, SubjectIsStableOneWayAndPerRoom) {
  EXPECT_EQ(oidc_subject("sale", "ticket-1"), oidc_subject("sale", "ticket-1"));
  EXPECT_NE(oidc_subject("sale", "ticket-1"), oidc_subject("sale", "ticket-2"));
  EXPECT_NE(oidc_subject("sale", "ticket-1"), oidc_subject("other", "ticket-1"));
  EXPECT_EQ(oidc_subject("sale", "ticket-1").find("ticket"), std::string::npos);
  EXPECT_EQ(oidc_subject("sale", "ticket-1").size(), 22u);
}

TEST(OidcClaims, AtHashIsTheLeftHalfOfSha256) {
  // Computed independently: base64url(hashlib.sha256(token).digest()[:16]) in Python.
  EXPECT_EQ(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNOTsz4ntyAMG1lYeyvc"), "9SWmxnPbQ_IFWa4jIBrGzA");
}

TEST(OidcClaims, IdTokenCarriesTheIssueClaims) {
  auto c = id_token_claims(facts(), "at");
  EXPECT_EQ(c.at("aud").as_string(), "shop");
  EXPECT_EQ(c.at("nonce").as_string(), "n-1");
  EXPECT_EQ(c.at("auth_time").as_int64(), 1'000);
  EXPECT_EQ(c.at("queue_position").as_uint64(), 42u);
  TokenFacts no_nonce = facts();
  no_nonce.nonce.clear();
  EXPECT_FALSE(id_token_claims(no_nonce, "at").contains("nonce"));
}

TEST(OidcClaims, AccessTokenChecks) {
  const TokenFacts f = facts();
  const auto good = access_token_claims(f);
  EXPECT_TRUE(check_access_token(good, f.issuer, 1'500));
  EXPECT_FALSE(check_access_token(good, f.issuer, 1'900));  // expired at exp
  EXPECT_FALSE(check_access_token(good, "https://queue.example/oidc/other", 1'500));
  auto wrong_aud = good;
  wrong_aud["aud"] = "shop";
  EXPECT_FALSE(check_access_token(wrong_aud, f.issuer, 1'500));
  // An ID token is not an access token, though it is signed by the same key.
  EXPECT_FALSE(check_access_token(id_token_claims(f, "at"), f.issuer, 1'500));
  auto pass_like = good;
  pass_like["token_use"] = "access";
  EXPECT_FALSE(check_access_token(pass_like, f.issuer, 1'500));
}

}  // namespace
}  // namespace waitroom::gate
