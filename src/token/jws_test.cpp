#include "token/jws.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "testing/fixed_time.hpp"
#include "token/base64url.hpp"

namespace waitroom::token {
namespace {

using testing::kNow;

std::vector<std::string> split(const std::string& jwt) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = jwt.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(jwt.substr(start, dot - start));
  }
  parts.push_back(jwt.substr(start));
  return parts;
}

core::Result<boost::json::object> verify_with(const std::string& jwt, const SigningKey& key) {
  auto token = parse_jwt(jwt);
  if (!token) return std::unexpected(token.error());
  return verify_jwt(*token, key);
}

std::string b64(std::string_view s) { return base64url_encode(s); }

class JwsTest : public ::testing::TestWithParam<Algorithm> {
 protected:
  SigningKey key_ = SigningKey::generate(GetParam(), kNow).value();
  boost::json::object claims_{
      {"sub", "visitor-1"}, {"aud", "shop"}, {"exp", kNow + 60}, {"queue_position", 7}};
};

TEST_P(JwsTest, RoundTrips) {
  const std::string jwt = sign_jwt(key_, claims_).value();
  const auto claims = verify_with(jwt, key_);
  ASSERT_TRUE(claims) << claims.error().detail;
  EXPECT_EQ(*claims, claims_);
}

TEST_P(JwsTest, HeaderIsExact) {
  const auto parts = split(sign_jwt(key_, claims_).value());
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(base64url_decode(parts[0]).value(),
            R"({"alg":")" + std::string(algorithm_name(GetParam())) + R"(","kid":")" + key_.kid +
                R"(","typ":"JWT"})");
  EXPECT_EQ(base64url_decode(parts[1]).value(), boost::json::serialize(claims_));
}

TEST_P(JwsTest, TamperedPayloadOrSignatureFails) {
  const auto parts = split(sign_jwt(key_, claims_).value());
  boost::json::object richer = claims_;
  richer["queue_position"] = 1;
  const std::string forged_payload =
      parts[0] + "." + b64(boost::json::serialize(richer)) + "." + parts[2];
  EXPECT_EQ(verify_with(forged_payload, key_).error().code, core::ErrorCode::unauthorized);

  std::string sig = base64url_decode(parts[2]).value();
  sig[3] ^= 0x20;
  EXPECT_FALSE(verify_with(parts[0] + "." + parts[1] + "." + b64(sig), key_));
  EXPECT_FALSE(verify_with(parts[0] + "." + parts[1] + ".", key_));
  EXPECT_FALSE(verify_with(parts[0] + "." + parts[1], key_));
  EXPECT_FALSE(verify_with(parts[0] + "." + parts[1] + "." + parts[2] + ".", key_));
  EXPECT_FALSE(verify_with(parts[0] + "." + parts[1] + "." + parts[2] + "=", key_));
}

TEST_P(JwsTest, OtherKeyOfSameAlgorithmFails) {
  SigningKey other = SigningKey::generate(GetParam(), kNow).value();
  other.kid = key_.kid;  // even with a matching kid, the signature decides
  EXPECT_FALSE(verify_with(sign_jwt(key_, claims_).value(), other));
}

std::string with_header(const SigningKey& key, std::string_view alg, const std::string& payload_b64,
                        const std::string& sig_b64) {
  const std::string header =
      R"({"alg":")" + std::string(alg) + R"(","kid":")" + key.kid + R"(","typ":"JWT"})";
  return b64(header) + "." + payload_b64 + "." + sig_b64;
}

TEST_P(JwsTest, HeaderAlgCannotOverrideTheKey) {
  const auto parts = split(sign_jwt(key_, claims_).value());
  // The valid signature under a header that names another algorithm: refused.
  for (const std::string_view alg : {"none", "HS256", "ES256", "RS256", "ES384", "es256", ""}) {
    if (alg == algorithm_name(GetParam())) continue;
    EXPECT_FALSE(verify_with(with_header(key_, alg, parts[1], parts[2]), key_)) << alg;
  }
  // alg "none" with no signature at all.
  EXPECT_FALSE(verify_with(with_header(key_, "none", parts[1], ""), key_));
  // The classic confusion: HS256 keyed with the public key the server publishes.
  const std::string public_key = boost::json::serialize(key_.public_jwk());
  const std::string input = b64(R"({"alg":"HS256","kid":")" + key_.kid + R"("})") + "." + parts[1];
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), public_key.data(), static_cast<int>(public_key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  EXPECT_FALSE(
      verify_with(input + "." + b64(std::string(reinterpret_cast<char*>(mac), mac_len)), key_));
}

TEST_P(JwsTest, HeaderNeedsKidAndAlgAndNoCrit) {
  const auto parts = split(sign_jwt(key_, claims_).value());
  const std::string alg(algorithm_name(GetParam()));
  for (const std::string& header :
       {R"({"alg":")" + alg + R"("})", R"({"kid":")" + key_.kid + R"("})",
        R"({"alg":")" + alg + R"(","kid":7})",
        R"({"alg":")" + alg + R"(","kid":")" + key_.kid + R"(","crit":["exp"]})", std::string("[]"),
        std::string("not json")}) {
    const auto parsed = parse_jwt(b64(header) + "." + parts[1] + "." + parts[2]);
    ASSERT_FALSE(parsed) << header;
    EXPECT_EQ(parsed.error().code, core::ErrorCode::unauthorized);
  }
}

TEST_P(JwsTest, PayloadMustBeAnObject) {
  // Signed by the right key, but the payload is an array: still refused.
  const std::string header =
      R"({"alg":")" + std::string(algorithm_name(GetParam())) + R"(","kid":")" + key_.kid + R"("})";
  const std::string input = b64(header) + "." + b64("[1,2]");
  const std::string jwt = input + "." + b64(key_.sign(input).value());
  EXPECT_FALSE(verify_with(jwt, key_));
}

INSTANTIATE_TEST_SUITE_P(BothAlgorithms, JwsTest, ::testing::ValuesIn(kAllAlgorithms),
                         [](const auto& info) { return std::string(algorithm_name(info.param)); });

TEST(Jws, RefusesHugeAndShapelessTokens) {
  EXPECT_FALSE(parse_jwt(std::string(kMaxJwtBytes + 1, 'a')));
  EXPECT_FALSE(parse_jwt(""));
  EXPECT_FALSE(parse_jwt(".."));
  EXPECT_FALSE(parse_jwt("a.b"));
  EXPECT_FALSE(parse_jwt("a.b.c.d"));
}

TEST(CheckTimeClaims, ExpAndNbfWithLeeway) {
  const boost::json::object claims{{"exp", kNow + 10}, {"nbf", kNow - 10}};
  EXPECT_TRUE(check_time_claims(claims, kNow, 0));
  EXPECT_TRUE(check_time_claims(claims, kNow + 9, 0));
  EXPECT_FALSE(check_time_claims(claims, kNow + 10, 0));  // exp is the first invalid second
  EXPECT_TRUE(check_time_claims(claims, kNow + 10, 5));
  EXPECT_FALSE(check_time_claims(claims, kNow + 15, 5));
  EXPECT_TRUE(check_time_claims(claims, kNow - 10, 0));
  EXPECT_FALSE(check_time_claims(claims, kNow - 11, 0));
  EXPECT_TRUE(check_time_claims(claims, kNow - 15, 5));
  EXPECT_FALSE(check_time_claims(claims, kNow - 16, 5));
  const auto expired = check_time_claims(claims, kNow + 100, 0);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, core::ErrorCode::unauthorized);
}

TEST(CheckTimeClaims, ExpRequiredAndNumeric) {
  EXPECT_FALSE(check_time_claims({}, kNow, 0));
  EXPECT_FALSE(check_time_claims({{"nbf", kNow}}, kNow, 0));
  EXPECT_FALSE(check_time_claims({{"exp", "later"}}, kNow, 0));
  EXPECT_FALSE(check_time_claims({{"exp", nullptr}}, kNow, 0));
  EXPECT_FALSE(check_time_claims({{"exp", kNow + 10}, {"nbf", "soon"}}, kNow, 0));
  EXPECT_TRUE(check_time_claims({{"exp", static_cast<double>(kNow) + 10.5}}, kNow, 0));
  EXPECT_TRUE(check_time_claims({{"exp", std::uint64_t{1} << 63}}, kNow, 0));
  EXPECT_TRUE(check_time_claims({{"exp", 1e300}}, kNow, 0));
  EXPECT_FALSE(check_time_claims({{"exp", -1e300}}, kNow, 0));
}

}  // namespace
}  // namespace waitroom::token
