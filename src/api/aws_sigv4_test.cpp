#include "api/aws_sigv4.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Expected Authorization values come from the AWS SigV4 test suite (get-vanilla*) or from an
// independent throwaway Python signer (hashlib/hmac), each cross-checked against botocore 1.43.

namespace waitroom::api {
namespace {

using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

// AWS test-suite credential and time (2015-08-30T12:36:00Z).
constexpr std::string_view kExampleKeyId = "AKIDEXAMPLE";
constexpr std::string_view kExampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::int64_t kExampleTimeMs = 1'440'938'160'000;
constexpr std::string_view kExampleDate = "20150830T123600Z";

// Waitroom execute-api vectors, signed at 2026-11-26T12:00:00Z for region eu-west-1.
constexpr std::string_view kKeyId = "AKIAWAITROOMTEST0001";
constexpr std::string_view kSecret = "c2VjcmV0LWZvci10ZXN0cy1vbmx5LW5vdC1yZWFsLTAx";
constexpr std::int64_t kTimeMs = 1'795'694'400'000;
constexpr std::string_view kDate = "20261126T120000Z";
constexpr std::string_view kHost = "waitroom.example.com";
constexpr std::string_view kBody = R"({"event_id":"demo","increment_by":5})";
constexpr std::string_view kBodySha256 =
    "15ec97e34c8bbf0cb71ed57e302c773d69b36ae084f9f4c0056fc76d1249a398";

constexpr std::string_view kGetVanillaAuth =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
constexpr std::string_view kQueryOrderKeyCaseAuth =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500";
constexpr std::string_view kQueryOrderKeyAuth =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1";
constexpr std::string_view kPostJsonAuth =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=22ecb2a9f9f1efba880abb6ce964405e59f0b01670127aa65478a5e4bb97c40f";
constexpr std::string_view kIncrementAuth =
    "AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=d7cddca1e2e39a298fc8dd168624fa06a42ad33b9d56211a40c61b2e3b9764fa";
constexpr std::string_view kQueryAuth =
    "AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=ff449a1a7a8f393b0e6816eccbe94207884050bdbcd162bc227880f8236ab385";
constexpr std::string_view kEncodedPathAuth =
    "AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-security-token, "
    "Signature=c2f3f8e957c1c1a8945d9ffb63bb0f0c2db6a478f3bad9e289dce8e5c8576c52";
constexpr std::string_view kContentShaAuth =
    "AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "
    "Signature=3abf3fdd6878317d80da67da71443346ef32f48eea67484e27bf7bd513c9c93e";
constexpr std::string_view kUnsignedPayloadAuth =
    "AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, "
    "Signature=2f7109038cd1c8e44c99b68ef4ff1c816d95bdf2aba604019f12cbde90baadc6";

class AwsSigV4 : public ::testing::Test {
 protected:
  SigV4Verifier example_verifier() const {
    return SigV4Verifier({{std::string(kExampleKeyId), std::string(kExampleSecret)}}, "service",
                         example_clock_);
  }
  SigV4Verifier verifier(std::int64_t max_skew_s = 900) const {
    return SigV4Verifier(
        {{"AKIAOTHER", "other-secret"}, {std::string(kKeyId), std::string(kSecret)}}, "execute-api",
        clock_, max_skew_s);
  }

  static SignedRequest vanilla(std::string_view authorization) {
    return SignedRequest{"GET", "/", "",
                         Headers{{"Host", "example.amazonaws.com"},
                                 {"X-Amz-Date", kExampleDate},
                                 {"Authorization", authorization}},
                         ""};
  }
  static SignedRequest increment(std::string_view authorization = kIncrementAuth) {
    return SignedRequest{"POST", "/private/increment_serving_counter", "",
                         Headers{{"Host", kHost},
                                 {"Content-Type", "application/json"},
                                 {"X-Amz-Date", kDate},
                                 {"Authorization", authorization},
                                 {"Content-Length", "36"},
                                 {"User-Agent", "aws-sdk"}},
                         kBody};
  }

  static void expect_unauthorized(const core::Result<SigV4Identity>& result,
                                  std::string_view detail_part) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, core::ErrorCode::unauthorized);
    EXPECT_NE(result.error().detail.find(detail_part), std::string::npos) << result.error().detail;
    EXPECT_EQ(result.error().detail.find(kSecret), std::string::npos);
  }

  core::ManualClock example_clock_{kExampleTimeMs};
  core::ManualClock clock_{kTimeMs};
};

TEST_F(AwsSigV4, AwsSuiteGetVanilla) {
  const auto identity = example_verifier().verify(vanilla(kGetVanillaAuth));
  ASSERT_TRUE(identity.has_value()) << identity.error().detail;
  EXPECT_EQ(identity->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(identity->region, "us-east-1");
  EXPECT_EQ(identity->service, "service");
}

TEST_F(AwsSigV4, AwsSuiteQueryParametersSortByNameThenValue) {
  SignedRequest request = vanilla(kQueryOrderKeyCaseAuth);
  request.query = "Param2=value2&Param1=value1";
  EXPECT_TRUE(example_verifier().verify(request).has_value());

  request = vanilla(kQueryOrderKeyAuth);
  request.query = "Param1=value2&Param1=Value1";
  EXPECT_TRUE(example_verifier().verify(request).has_value());
  request.query = "Param1=Value1&Param1=value2";  // order on the wire does not matter
  EXPECT_TRUE(example_verifier().verify(request).has_value());
}

TEST_F(AwsSigV4, PostWithJsonBody) {
  const SignedRequest request{"POST", "/", "",
                              Headers{{"Host", "example.amazonaws.com"},
                                      {"Content-Type", "application/json"},
                                      {"X-Amz-Date", kExampleDate},
                                      {"Authorization", kPostJsonAuth}},
                              R"({"hello":"world"})"};
  EXPECT_TRUE(example_verifier().verify(request).has_value());
}

TEST_F(AwsSigV4, ExecuteApiPostIncrementServingCounter) {
  const auto identity = verifier().verify(increment());
  ASSERT_TRUE(identity.has_value()) << identity.error().detail;
  EXPECT_EQ(identity->access_key_id, kKeyId);
  EXPECT_EQ(identity->region, "eu-west-1");
  EXPECT_EQ(identity->service, "execute-api");
}

TEST_F(AwsSigV4, ExecuteApiGetWithEncodedQuery) {
  SignedRequest request{
      "GET", "/private/num_active_tokens", "event_id=demo&x=a%20b",
      Headers{{"Host", kHost}, {"X-Amz-Date", kDate}, {"Authorization", kQueryAuth}}, ""};
  EXPECT_TRUE(verifier().verify(request).has_value());
  // The same parameters, reordered and with the space as '+', canonicalize identically.
  request.query = "x=a+b&event_id=demo";
  EXPECT_TRUE(verifier().verify(request).has_value());
  request.query = "event_id=demo&x=a%2Bb";  // a literal '+' is a different value
  expect_unauthorized(verifier().verify(request), "signature mismatch");
}

TEST_F(AwsSigV4, PathIsNormalizedAndEncodedOnceMore) {
  // Signed as "/private/a%2520b/c/d": the wire path, dot/empty segments removed, encoded again.
  SignedRequest request{"GET", "/private/a%20b/./c//d", "",
                        Headers{{"Host", "waitroom.example.com:8443"},
                                {"X-Amz-Date", kDate},
                                {"X-Amz-Security-Token", "tok  en"},
                                {"Authorization", kEncodedPathAuth}},
                        ""};
  EXPECT_TRUE(verifier().verify(request).has_value());
  request.path = "/private/a%20b/c/d";
  EXPECT_TRUE(verifier().verify(request).has_value());
  request.path = "/private/a b/c/d";  // decoded form is a different canonical URI
  expect_unauthorized(verifier().verify(request), "signature mismatch");
}

TEST_F(AwsSigV4, ContentSha256HeaderMustMatchBody) {
  SignedRequest request = increment(kContentShaAuth);
  request.headers.emplace_back("X-Amz-Content-Sha256", kBodySha256);
  EXPECT_TRUE(verifier().verify(request).has_value());
  request.body = R"({"event_id":"demo","increment_by":500})";
  expect_unauthorized(verifier().verify(request), "X-Amz-Content-Sha256");
}

TEST_F(AwsSigV4, UnsignedPayloadIsSignedLiterally) {
  SignedRequest request = increment(kUnsignedPayloadAuth);
  request.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  EXPECT_TRUE(verifier().verify(request).has_value());
}

TEST_F(AwsSigV4, HeaderNamesInAnyCaseAndUppercaseSignatureHexVerify) {
  SignedRequest request = increment();
  request.headers = {{"hOST", kHost},
                     {"CONTENT-TYPE", "  application/json "},
                     {"x-AMZ-date", kDate},
                     {"AUTHORIZATION", kIncrementAuth}};
  EXPECT_TRUE(verifier().verify(request).has_value());

  std::string upper(kIncrementAuth);
  const std::size_t at = upper.find("Signature=") + 10;
  for (std::size_t i = at; i < upper.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(verifier().verify(increment(upper)).has_value());
}

TEST_F(AwsSigV4, TamperedRequestsFail) {
  SignedRequest request = increment();
  request.body = R"({"event_id":"demo","increment_by":6})";
  expect_unauthorized(verifier().verify(request), "signature mismatch");

  request = increment();
  request.path = "/private/reset_initial_state";
  expect_unauthorized(verifier().verify(request), "signature mismatch");

  request = increment();
  request.query = "event_id=other";
  expect_unauthorized(verifier().verify(request), "signature mismatch");

  request = increment();
  request.method = "PUT";
  expect_unauthorized(verifier().verify(request), "signature mismatch");

  request = increment();
  request.headers[1].second = "text/plain";  // a signed header
  expect_unauthorized(verifier().verify(request), "signature mismatch");

  request = increment();
  request.headers[5].second = "curl/8";  // an unsigned, non-x-amz header may change
  EXPECT_TRUE(verifier().verify(request).has_value());
}

TEST_F(AwsSigV4, UnsignedAmzHeadersFail) {
  SignedRequest request = increment();
  request.headers.emplace_back("X-Amz-Meta-Extra", "1");
  expect_unauthorized(verifier().verify(request), "x-amz-meta-extra not signed");

  request = increment();
  request.headers.emplace_back("X-Amz-Security-Token", "token");
  expect_unauthorized(verifier().verify(request), "x-amz-security-token not signed");
}

TEST_F(AwsSigV4, HostMustBeSigned) {
  // Header-only check; fails before any signature work.
  const std::string auth =
      "AWS4-HMAC-SHA256 "
      "Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request, "
      "SignedHeaders=content-type;x-amz-date, Signature=" +
      std::string(64, '0');
  expect_unauthorized(verifier().verify(increment(auth)), "host header not signed");
}

TEST_F(AwsSigV4, ScopeMustMatch) {
  // Signed for service "service": valid signature, wrong scope for this verifier.
  clock_.set_ms(kExampleTimeMs);
  SignedRequest request = vanilla(kGetVanillaAuth);
  const SigV4Verifier wrong_service({{std::string(kExampleKeyId), std::string(kExampleSecret)}},
                                    "execute-api", clock_);
  expect_unauthorized(wrong_service.verify(request), "wrong service");

  std::string auth(kIncrementAuth);
  auth.replace(auth.find("20261126"), 8, "20261125");
  expect_unauthorized(verifier().verify(increment(auth)), "scope date does not match");

  auth = kIncrementAuth;
  auth.replace(auth.find("aws4_request"), 12, "aws5_request");
  expect_unauthorized(verifier().verify(increment(auth)), "aws4_request");
}

TEST_F(AwsSigV4, UnknownAccessKeyFails) {
  std::string auth(kIncrementAuth);
  auth.replace(auth.find(kKeyId), kKeyId.size(), "AKIAUNKNOWNKEY000001");
  expect_unauthorized(verifier().verify(increment(auth)), "unknown access key");
  const SigV4Verifier empty({}, "execute-api", clock_);
  expect_unauthorized(empty.verify(increment()), "unknown access key");
}

TEST_F(AwsSigV4, ClockSkewIsBounded) {
  clock_.set_ms(kTimeMs + 900'000);  // exactly at the limit
  EXPECT_TRUE(verifier().verify(increment()).has_value());
  clock_.set_ms(kTimeMs + 901'000);
  expect_unauthorized(verifier().verify(increment()), "too old");
  clock_.set_ms(kTimeMs - 900'000);
  EXPECT_TRUE(verifier().verify(increment()).has_value());
  clock_.set_ms(kTimeMs - 901'000);
  expect_unauthorized(verifier().verify(increment()), "too new");
  clock_.set_ms(kTimeMs + 60'000);
  expect_unauthorized(verifier(30).verify(increment()), "too old");
}

TEST_F(AwsSigV4, XAmzDateIsRequiredAndStrict) {
  SignedRequest request = increment();
  request.headers.erase(request.headers.begin() + 2);
  expect_unauthorized(verifier().verify(request), "missing X-Amz-Date");

  for (std::string_view bad : {"20261126T120000", "2026-11-26T12:00:00Z", "20261126T250000Z",
                               "20261131T120000Z", "20261126t120000Z"}) {
    request = increment();
    request.headers[2].second = bad;
    expect_unauthorized(verifier().verify(request), "malformed X-Amz-Date");
  }

  request = increment();
  request.headers.emplace_back("X-Amz-Date", kDate);
  expect_unauthorized(verifier().verify(request), "repeated X-Amz-Date");
}

TEST_F(AwsSigV4, MalformedAuthorizationFails) {
  SignedRequest request = increment();
  request.headers.erase(request.headers.begin() + 3);
  expect_unauthorized(verifier().verify(request), "missing Authorization");

  request = increment();
  request.headers.emplace_back("authorization", kIncrementAuth);
  expect_unauthorized(verifier().verify(request), "repeated Authorization");

  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::string good_cred =
      "Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api/aws4_request";
  const std::vector<std::pair<std::string, std::string_view>> cases = {
      {"", "not AWS4-HMAC-SHA256"},
      {"Bearer abc", "not AWS4-HMAC-SHA256"},
      {"AWS4-HMAC-SHA512 " + good_cred + ", SignedHeaders=host, " + sig, "not AWS4-HMAC-SHA256"},
      {"AWS4-HMAC-SHA256" + good_cred, "not AWS4-HMAC-SHA256"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", " + sig, "lacks"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host, " + sig + ", Extra=1",
       "unknown or repeated"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", " + good_cred + ", SignedHeaders=host, " + sig,
       "unknown or repeated"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders, " + sig,
       "malformed Authorization component"},
      {"AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126/eu-west-1/execute-api, "
       "SignedHeaders=host, " +
           sig,
       "malformed credential scope"},
      {"AWS4-HMAC-SHA256 Credential=AKIAWAITROOMTEST0001/20261126//execute-api/aws4_request, "
       "SignedHeaders=host, " +
           sig,
       "malformed credential scope"},
      {"AWS4-HMAC-SHA256 " + good_cred + "/x, SignedHeaders=host, " + sig,
       "malformed credential scope"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=x-amz-date;host, " + sig, "sorted"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=Host;x-amz-date, " + sig, "lowercase"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host;;x-amz-date, " + sig, "lowercase"},
      {"AWS4-HMAC-SHA256 " + good_cred + ", SignedHeaders=host;host;x-amz-date, " + sig, "unique"},
  };
  for (const auto& [auth, detail] : cases) {
    SCOPED_TRACE(auth);
    expect_unauthorized(verifier().verify(increment(auth)), detail);
  }
}

TEST_F(AwsSigV4, SignatureMustBe64HexDigits) {
  std::string auth(kIncrementAuth);
  expect_unauthorized(verifier().verify(increment(auth.substr(0, auth.size() - 1))),
                      "64 hex digits");
  expect_unauthorized(verifier().verify(increment(auth + "0")), "64 hex digits");
  auth.back() = 'g';
  expect_unauthorized(verifier().verify(increment(auth)), "64 hex digits");
  auth.back() = 'b';  // well-formed, but one bit off
  expect_unauthorized(verifier().verify(increment(auth)), "signature mismatch");
}

TEST_F(AwsSigV4, SignedHeaderMissingFromRequestFails) {
  SignedRequest request = increment();
  request.headers.erase(request.headers.begin() + 1);  // Content-Type, which is signed
  expect_unauthorized(verifier().verify(request), "signed header content-type missing");
}

TEST_F(AwsSigV4, RepeatedHeaderValuesAreJoined) {
  // Content-Type sent twice would sign as "a,b"; a single value differs, so this must fail rather
  // than pick one of them.
  SignedRequest request = increment();
  request.headers.emplace_back("content-type", "application/json");
  expect_unauthorized(verifier().verify(request), "signature mismatch");
}

}  // namespace
}  // namespace waitroom::api
