// Tests of libwaitroom_verify through its public header only, with passes made by the server's
// own token code (KeyRing, JwtPassMinter), a JWKS file, and an in-process HTTP(S) server.
// Over 600 lines on purpose: it is the library's whole contract (every claim, every key source,
// every failure a protected site can see), read in one place next to the header it tests.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "testing/temp_dir.hpp"
#include "testing/test_certificates.hpp"
#include "testing/test_http_server.hpp"
#include "token/base64url.hpp"
#include "token/jws.hpp"
#include "token/jwt_pass_minter.hpp"
#include "token/key_ring.hpp"
#include "waitroom/verify.hpp"

namespace waitroom::verify {
namespace {

using namespace std::chrono_literals;
using token::base64url_decode;
using token::base64url_encode;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kLifetimeS = 600;
constexpr char kRoom[] = "launch";
constexpr char kIssuer[] = "waitroom";

// ---------------------------------------------------------------------------------------------
// Passes

core::PassRequest pass_request(std::string_view alg = "ES256") {
  core::PassRequest r;
  r.room = kRoom;
  r.algorithm = std::string(alg);
  r.issuer = kIssuer;
  r.audience = kRoom;
  r.ticket = "t0ZtWQ2l3mZKq0Z9Xb8Hfw";
  r.position = 42;
  r.issued_at_s = kNow;
  r.expires_at_s = kNow + kLifetimeS;
  return r;
}

std::string mint(const token::KeyRing& ring, const core::PassRequest& r) {
  auto pass = token::JwtPassMinter(ring).mint(r);
  EXPECT_TRUE(pass) << pass.error().detail;
  return pass.value_or("");
}

boost::json::object standard_claims() {
  return {{"iss", kIssuer},    {"sub", "ticket-1"},   {"aud", kRoom},
          {"exp", kNow + 600}, {"iat", kNow},         {"nbf", kNow},
          {"jti", "jti-1"},    {"queue_position", 7}, {"token_use", "access"}};
}

std::string b64(std::string_view s) { return base64url_encode(s); }

std::string header_json(std::string_view alg, std::string_view kid) {
  return R"({"alg":")" + std::string(alg) + R"(","kid":")" + std::string(kid) + R"(","typ":"JWT"})";
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// The public half of a key as PEM (SubjectPublicKeyInfo): what anyone can build from the JWKS.
std::string public_pem(const std::filesystem::path& private_pem_file) {
  std::ifstream in(private_pem_file);
  const std::string private_pem((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  BIO* in_bio = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in_bio, nullptr, nullptr, nullptr);
  BIO* out_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out_bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out_bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(out_bio);
  EVP_PKEY_free(key);
  BIO_free(in_bio);
  return pem;
}

std::string kid_of(std::string_view pass) {
  const auto header = base64url_decode(pass.substr(0, pass.find('.'))).value();
  return std::string(boost::json::parse(header).as_object().at("kid").as_string());
}

// ---------------------------------------------------------------------------------------------
// An HTTP(S) server on 127.0.0.1:0 with its own thread that answers every GET with the status and
// body it was last given, or holds the connection without answering.
class JwksServer {
 public:
  explicit JwksServer(std::optional<testing::TestHttpServer::Tls> tls = std::nullopt)
      : server_([this](const testing::TestRequest& req) { return respond(req); }, 0,
                std::move(tls)) {}

  void answer(unsigned status, std::string body) {
    std::lock_guard lock(mutex_);
    status_ = status;
    body_ = std::move(body);
  }
  void answer_jwks(const token::KeyRing& ring) { answer(200, boost::json::serialize(ring.jwks())); }
  void stay_silent() { silent_ = true; }

  int requests() const { return requests_; }
  std::string url(std::string_view host = "127.0.0.1") const {
    return server_.url("/.well-known/jwks.json", host);
  }
  std::string last_target() const {
    std::lock_guard lock(mutex_);
    return last_target_;
  }

 private:
  std::optional<testing::TestAnswer> respond(const testing::TestRequest& req) {
    ++requests_;
    if (silent_) return std::nullopt;
    std::lock_guard lock(mutex_);
    last_target_ = req.target;
    return testing::TestAnswer{
        .status = status_, .body = body_, .content_type = "application/json", .keep_alive = false};
  }

  mutable std::mutex mutex_;
  unsigned status_ = 200;
  std::string body_;
  std::string last_target_;
  std::atomic<bool> silent_{false};
  std::atomic<int> requests_{0};
  testing::TestHttpServer server_;  // last: its thread stops before the rest goes
};

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

class VerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new testing::TempDir();
    auto ring = token::KeyRing::open(temp_->path() / "keys", clock_);
    ASSERT_TRUE(ring) << ring.error().detail;
    ring_ = ring->release();
    write_jwks(*ring_, jwks_path());
  }
  static void TearDownTestSuite() {
    delete ring_;
    ring_ = nullptr;
    delete temp_;
    temp_ = nullptr;
  }

  static std::filesystem::path jwks_path() { return temp_->path() / "jwks.json"; }
  static void write_jwks(const token::KeyRing& ring, const std::filesystem::path& path) {
    std::ofstream(path) << boost::json::serialize(ring.jwks());
  }
  static void write_text(const std::filesystem::path& path, std::string_view text) {
    std::ofstream(path) << text;
  }

  Options options(std::string jwks = jwks_path().string()) {
    Options o;
    o.jwks = std::move(jwks);
    o.refresh_interval = 0s;
    o.min_refresh_interval = 0s;
    o.now_s = [this] { return now_.load(); };
    return o;
  }

  std::unique_ptr<Verifier> make(Options o) {
    std::string error;
    auto v = Verifier::create(std::move(o), &error);
    EXPECT_TRUE(v) << error;
    return v;
  }

  static Expectation expect() {
    Expectation e;
    e.audience = kRoom;
    e.issuer = kIssuer;
    e.leeway = 0s;
    return e;
  }

  std::string es256_pass() { return mint(*ring_, pass_request("ES256")); }
  std::string rs256_pass() { return mint(*ring_, pass_request("RS256")); }
  std::string signed_pass(token::Algorithm alg, const boost::json::object& claims) {
    auto pass = ring_->sign(alg, claims);
    EXPECT_TRUE(pass) << pass.error().detail;
    return pass.value_or("");
  }

  static inline core::SystemClock clock_;
  static inline testing::TempDir* temp_ = nullptr;
  static inline token::KeyRing* ring_ = nullptr;
  std::atomic<std::int64_t> now_{kNow};
};

// ---- valid passes -----------------------------------------------------------------------------

TEST_F(VerifierTest, ValidEs256PassFromTheServersMinterVerifies) {
  auto v = make(options());
  ASSERT_TRUE(v);
  const Result r = v->verify(es256_pass(), expect());
  ASSERT_TRUE(r.ok()) << to_string(r.code) << ": " << r.message;
  ASSERT_TRUE(r.claims);
  EXPECT_EQ(r.claims->ticket, "t0ZtWQ2l3mZKq0Z9Xb8Hfw");
  EXPECT_EQ(r.claims->room, kRoom);
  EXPECT_EQ(r.claims->issuer, kIssuer);
  EXPECT_EQ(r.claims->queue_position, 42u);
  EXPECT_EQ(r.claims->iat, kNow);
  EXPECT_EQ(r.claims->nbf, kNow);
  EXPECT_EQ(r.claims->exp, kNow + kLifetimeS);
  EXPECT_EQ(r.claims->jti.size(), 22u);  // 16 random bytes, base64url
  EXPECT_EQ(r.claims->token_use, "access");
  EXPECT_EQ(r.claims->kid, ring_->active_kid(token::Algorithm::ES256));
  EXPECT_EQ(r.claims->algorithm, Algorithm::ES256);
  EXPECT_TRUE(r.message.empty());
  EXPECT_EQ(v->stats().keys, 2u);
}

TEST_F(VerifierTest, ValidRs256PassFromTheServersMinterVerifies) {
  auto v = make(options());
  ASSERT_TRUE(v);
  const Result r = v->verify(rs256_pass(), expect());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.claims->kid, ring_->active_kid(token::Algorithm::RS256));
  EXPECT_EQ(r.claims->algorithm, Algorithm::RS256);
  EXPECT_EQ(r.claims->queue_position, 42u);
}

TEST_F(VerifierTest, LeewayCoversSmallClockDifferencesUpTo60Seconds) {
  auto v = make(options());
  ASSERT_TRUE(v);
  const std::string pass = es256_pass();
  Expectation e = expect();
  now_ = kNow + kLifetimeS + 20;  // 20 s past exp
  EXPECT_EQ(v->verify(pass, e).code, ErrorCode::expired);
  e.leeway = 30s;
  EXPECT_TRUE(v->verify(pass, e).ok());
  now_ = kNow - 20;  // 20 s before nbf
  e.leeway = 0s;
  EXPECT_EQ(v->verify(pass, e).code, ErrorCode::not_yet_valid);
  e.leeway = 30s;
  EXPECT_TRUE(v->verify(pass, e).ok());
  now_ = kNow + kLifetimeS + 90;  // a leeway above 60 s is clamped to 60 s
  e.leeway = 3600s;
  EXPECT_EQ(v->verify(pass, e).code, ErrorCode::expired);
  e.leeway = -5s;  // and one below 0 to 0
  now_ = kNow + kLifetimeS;
  EXPECT_EQ(v->verify(pass, e).code, ErrorCode::expired);
}

// ---- one test per refusal -----------------------------------------------------------------------

TEST_F(VerifierTest, RefusesForgedSignature) {
  auto v = make(options());
  ASSERT_TRUE(v);
  for (const std::string& pass : {es256_pass(), rs256_pass()}) {
    const std::size_t dot2 = pass.rfind('.');
    // A flipped bit in the signature.
    std::string sig = base64url_decode(pass.substr(dot2 + 1)).value();
    sig[sig.size() / 2] ^= 0x01;
    const Result flipped = v->verify(pass.substr(0, dot2 + 1) + b64(sig), expect());
    EXPECT_EQ(flipped.code, ErrorCode::bad_signature) << flipped.message;
    EXPECT_FALSE(flipped.claims);

    // A payload changed to another room, with the original signature.
    boost::json::object claims =
        boost::json::parse(
            base64url_decode(pass.substr(pass.find('.') + 1, dot2 - pass.find('.') - 1)).value())
            .as_object();
    claims["aud"] = "another-room";
    const std::string edited = pass.substr(0, pass.find('.') + 1) +
                               b64(boost::json::serialize(claims)) + pass.substr(dot2);
    EXPECT_EQ(v->verify(edited, expect()).code, ErrorCode::bad_signature);
  }
  // Signed by an attacker's own key under the real kid.
  for (const token::Algorithm alg : token::kAllAlgorithms) {
    auto forger = token::SigningKey::generate(alg, kNow).value();
    forger.kid = ring_->active_kid(alg);
    const std::string forged = token::sign_jwt(forger, standard_claims()).value();
    const Result r = v->verify(forged, expect());
    EXPECT_EQ(r.code, ErrorCode::bad_signature) << r.message;
  }
}

TEST_F(VerifierTest, RefusesExpiredPass) {
  auto v = make(options());
  ASSERT_TRUE(v);
  auto request = pass_request();
  request.issued_at_s = kNow - 2 * kLifetimeS;
  request.expires_at_s = kNow - kLifetimeS;
  const Result r = v->verify(mint(*ring_, request), expect());
  EXPECT_EQ(r.code, ErrorCode::expired);
  EXPECT_NE(r.message.find("expired"), std::string::npos) << r.message;
  // exp == now is already expired (valid while now < exp).
  request.expires_at_s = kNow;
  EXPECT_EQ(v->verify(mint(*ring_, request), expect()).code, ErrorCode::expired);
}

TEST_F(VerifierTest, RefusesPassNotYetValid) {
  auto v = make(options());
  ASSERT_TRUE(v);
  auto request = pass_request();
  request.issued_at_s = kNow + 120;  // iat and nbf
  request.expires_at_s = kNow + 720;
  const Result r = v->verify(mint(*ring_, request), expect());
  EXPECT_EQ(r.code, ErrorCode::not_yet_valid) << r.message;
}

TEST_F(VerifierTest, RefusesWrongAudience) {
  auto v = make(options());
  ASSERT_TRUE(v);
  auto request = pass_request();
  request.audience = "other-room";
  const Result r = v->verify(mint(*ring_, request), expect());
  EXPECT_EQ(r.code, ErrorCode::wrong_audience);
  EXPECT_EQ(r.message, R"(pass is for room "other-room", not "launch")");
  // An empty expectation matches nothing.
  Expectation e = expect();
  e.audience.clear();
  EXPECT_EQ(v->verify(es256_pass(), e).code, ErrorCode::wrong_audience);
  // RFC 7519 allows an array; Waitroom passes never use one, so it is refused.
  auto claims = standard_claims();
  claims["aud"] = boost::json::array{kRoom};
  EXPECT_EQ(v->verify(signed_pass(token::Algorithm::ES256, claims), expect()).code,
            ErrorCode::malformed);
}

TEST_F(VerifierTest, RefusesWrongIssuer) {
  auto v = make(options());
  ASSERT_TRUE(v);
  auto request = pass_request();
  request.issuer = "https://evil.example";
  const Result r = v->verify(mint(*ring_, request), expect());
  EXPECT_EQ(r.code, ErrorCode::wrong_issuer) << r.message;
  Expectation e = expect();
  e.issuer.clear();
  EXPECT_EQ(v->verify(es256_pass(), e).code, ErrorCode::wrong_issuer);
}

TEST_F(VerifierTest, RefusesAlgNone) {
  auto v = make(options());
  ASSERT_TRUE(v);
  const std::string body = b64(boost::json::serialize(standard_claims()));
  for (const char* alg : {"none", "None", "NONE"}) {
    const std::string head = b64(header_json(alg, ring_->active_kid(token::Algorithm::ES256)));
    // The unsecured form (RFC 7519 section 6): an empty signature.
    const Result unsigned_pass = v->verify(head + "." + body + ".", expect());
    EXPECT_EQ(unsigned_pass.code, ErrorCode::algorithm_not_allowed) << unsigned_pass.message;
    // And with something in the signature part.
    const Result junk = v->verify(head + "." + body + "." + b64("junk"), expect());
    EXPECT_EQ(junk.code, ErrorCode::algorithm_not_allowed) << junk.message;
  }
  // Even with a real ES256 header, an empty signature is refused.
  const std::string real = b64(header_json("ES256", ring_->active_kid(token::Algorithm::ES256)));
  EXPECT_EQ(v->verify(real + "." + body + ".", expect()).code, ErrorCode::algorithm_not_allowed);
  EXPECT_EQ(v->stats().signature_checks, 0u);
}

TEST_F(VerifierTest, RefusesHs256SignedWithThePublicKeyAsSecret) {
  auto v = make(options());
  ASSERT_TRUE(v);
  const std::string body = b64(boost::json::serialize(standard_claims()));
  for (const token::Algorithm alg : token::kAllAlgorithms) {
    const std::string kid = ring_->active_kid(alg);
    // What a verifier that trusted the header would use as the HMAC key: the published JWK, its
    // members, or the PEM of the public key.
    const boost::json::object jwk = ring_->public_jwk(kid);
    std::vector<std::string> secrets = {boost::json::serialize(jwk)};
    for (const char* member : {"n", "x"}) {
      if (const auto* m = jwk.if_contains(member)) {
        secrets.emplace_back(m->as_string());
        secrets.push_back(base64url_decode(m->as_string()).value());
      }
    }
    const std::string pem = public_pem(temp_->path() / "keys" / (kid + ".pem"));
    ASSERT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    secrets.push_back(pem);
    secrets.emplace_back();  // and the empty key
    for (const std::string& secret : secrets) {
      const std::string signing_input = b64(header_json("HS256", kid)) + "." + body;
      const std::string pass = signing_input + "." + b64(hmac_sha256(secret, signing_input));
      const Result r = v->verify(pass, expect());
      EXPECT_EQ(r.code, ErrorCode::algorithm_not_allowed) << r.message;
    }
  }
  EXPECT_EQ(v->stats().signature_checks, 0u);
}

TEST_F(VerifierTest, RefusesAHeaderAlgorithmOtherThanTheKeys) {
  auto v = make(options());
  ASSERT_TRUE(v);
  // An RSA signature under the ES256 key's kid, and the other way round.
  for (const token::Algorithm alg : token::kAllAlgorithms) {
    const token::Algorithm other =
        alg == token::Algorithm::ES256 ? token::Algorithm::RS256 : token::Algorithm::ES256;
    auto key = token::SigningKey::generate(other, kNow).value();
    key.kid = ring_->active_kid(alg);
    const Result r = v->verify(token::sign_jwt(key, standard_claims()).value(), expect());
    EXPECT_EQ(r.code, ErrorCode::algorithm_not_allowed) << r.message;
  }
  // The application may narrow the algorithms.
  Expectation es_only = expect();
  es_only.algorithms = {Algorithm::ES256};
  EXPECT_TRUE(v->verify(es256_pass(), es_only).ok());
  EXPECT_EQ(v->verify(rs256_pass(), es_only).code, ErrorCode::algorithm_not_allowed);
  es_only.algorithms.clear();
  EXPECT_EQ(v->verify(es256_pass(), es_only).code, ErrorCode::algorithm_not_allowed);
}

TEST_F(VerifierTest, RefusesUnknownKid) {
  auto v = make(options());
  ASSERT_TRUE(v);
  testing::TempDir other_dir;
  auto other = token::KeyRing::open(other_dir.path(), clock_).value();
  const std::string pass = mint(*other, pass_request());
  const auto loads = v->stats().jwks_loads;
  const Result r = v->verify(pass, expect());
  EXPECT_EQ(r.code, ErrorCode::unknown_kid);
  EXPECT_EQ(r.message, "no key with kid \"" + kid_of(pass) + "\"");
  EXPECT_EQ(v->stats().jwks_loads, loads + 1);  // it looked again before giving up
  EXPECT_EQ(v->stats().signature_checks, 0u);
}

TEST_F(VerifierTest, RefusesTruncatedPass) {
  auto v = make(options());
  ASSERT_TRUE(v);
  for (const std::string& pass : {es256_pass(), rs256_pass()}) {
    const std::size_t dot1 = pass.find('.');
    const std::size_t dot2 = pass.rfind('.');
    for (const std::size_t n :
         {std::size_t{0}, std::size_t{1}, dot1 - 1, dot1, dot1 + 1, (dot1 + dot2) / 2, dot2,
          dot2 + 1, dot2 + 10, pass.size() - 3, pass.size() - 2, pass.size() - 1}) {
      const Result r = v->verify(pass.substr(0, n), expect());
      EXPECT_FALSE(r.ok()) << n;
      EXPECT_TRUE(r.code == ErrorCode::malformed || r.code == ErrorCode::bad_signature ||
                  r.code == ErrorCode::algorithm_not_allowed)
          << n << ": " << to_string(r.code);
    }
    EXPECT_EQ(v->verify(pass.substr(0, dot2), expect()).code, ErrorCode::malformed);
    EXPECT_EQ(v->verify(pass.substr(0, pass.size() - 2), expect()).code, ErrorCode::bad_signature);
  }
  for (const char* junk :
       {"", ".", "..", "...", "a.b.c", "e30.e30.e30", "not a jwt", "\xff.\xfe.x"})
    EXPECT_EQ(v->verify(junk, expect()).code, ErrorCode::malformed) << junk;
}

TEST_F(VerifierTest, RefusesOversizedPassBeforeParsingIt) {
  auto v = make(options());
  ASSERT_TRUE(v);
  // Properly signed, but too long.
  auto request = pass_request();
  request.ticket = std::string(kMaxPassBytes, 't');
  const std::string pass = mint(*ring_, request);
  ASSERT_GT(pass.size(), kMaxPassBytes);
  const Result r = v->verify(pass, expect());
  EXPECT_EQ(r.code, ErrorCode::too_large);
  EXPECT_EQ(r.message, "pass is " + std::to_string(pass.size()) + " bytes, more than 8192");
  EXPECT_EQ(v->verify(std::string(kMaxPassBytes + 1, 'A'), expect()).code, ErrorCode::too_large);
  EXPECT_EQ(v->verify(std::string(kMaxPassBytes, 'A'), expect()).code, ErrorCode::malformed);
  EXPECT_EQ(v->stats().signature_checks, 0u);
}

TEST_F(VerifierTest, RefusesTokensThatAreNotPasses) {
  auto v = make(options());
  ASSERT_TRUE(v);
  auto claims = standard_claims();
  claims["token_use"] = "id";
  const Result r = v->verify(signed_pass(token::Algorithm::ES256, claims), expect());
  EXPECT_EQ(r.code, ErrorCode::wrong_token_use) << r.message;
  // Required claims.
  for (const char* name : {"iss", "sub", "aud", "exp"}) {
    auto missing = standard_claims();
    missing.erase(name);
    const Result m = v->verify(signed_pass(token::Algorithm::ES256, missing), expect());
    EXPECT_EQ(m.code, ErrorCode::malformed) << name;
    EXPECT_EQ(m.message, std::string("pass has no ") + name);
  }
  auto bad_exp = standard_claims();
  bad_exp["exp"] = "tomorrow";
  EXPECT_EQ(v->verify(signed_pass(token::Algorithm::ES256, bad_exp), expect()).code,
            ErrorCode::malformed);
  auto bad_position = standard_claims();
  bad_position["queue_position"] = -1;
  EXPECT_EQ(v->verify(signed_pass(token::Algorithm::ES256, bad_position), expect()).code,
            ErrorCode::malformed);
}

// A party ticket's pass says how many it lets in; a pass without the claim is for one.
TEST_F(VerifierTest, PartySizeIsOneUnlessThePassSaysMore) {
  auto v = make(options());
  ASSERT_TRUE(v);
  EXPECT_EQ(v->verify(es256_pass(), expect()).claims->party_size, 1u);
  auto party = standard_claims();
  party["party_size"] = 3;
  const Result r = v->verify(signed_pass(token::Algorithm::ES256, party), expect());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.claims->party_size, 3u);
  for (boost::json::value bad : {boost::json::value(0), boost::json::value("3")}) {
    auto claims = standard_claims();
    claims["party_size"] = bad;
    EXPECT_EQ(v->verify(signed_pass(token::Algorithm::ES256, claims), expect()).code,
              ErrorCode::malformed);
  }
}

TEST_F(VerifierTest, ErrorCodesHaveNames) {
  EXPECT_EQ(to_string(ErrorCode::ok), "ok");
  EXPECT_EQ(to_string(ErrorCode::bad_signature), "bad_signature");
  EXPECT_EQ(to_string(ErrorCode::algorithm_not_allowed), "algorithm_not_allowed");
  EXPECT_EQ(to_string(ErrorCode::too_large), "too_large");
  EXPECT_EQ(to_string(Algorithm::RS256), "RS256");
}

// ---- the cache
// -----------------------------------------------------------------------------------

TEST_F(VerifierTest, CacheAnswersARepeatedPassWithoutVerifyingAgain) {
  auto v = make(options());
  ASSERT_TRUE(v);
  const std::string pass = es256_pass();
  const Result first = v->verify(pass, expect());
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(v->stats().signature_checks, 1u);
  EXPECT_EQ(v->stats().cache_hits, 0u);
  EXPECT_EQ(v->stats().cache_entries, 1u);

  for (int i = 0; i < 10; ++i) {
    const Result again = v->verify(pass, expect());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.claims.get(), first.claims.get());  // the very same claims, shared
  }
  EXPECT_EQ(v->stats().signature_checks, 1u);
  EXPECT_EQ(v->stats().cache_hits, 10u);

  // The claims are still checked against who asks and when.
  Expectation other_room = expect();
  other_room.audience = "other";
  EXPECT_EQ(v->verify(pass, other_room).code, ErrorCode::wrong_audience);
  Expectation other_issuer = expect();
  other_issuer.issuer = "other";
  EXPECT_EQ(v->verify(pass, other_issuer).code, ErrorCode::wrong_issuer);
  Expectation rs_only = expect();
  rs_only.algorithms = {Algorithm::RS256};
  EXPECT_EQ(v->verify(pass, rs_only).code, ErrorCode::algorithm_not_allowed);
  now_ = kNow + kLifetimeS;
  EXPECT_EQ(v->verify(pass, expect()).code, ErrorCode::expired);
  EXPECT_EQ(v->stats().signature_checks, 1u);
  EXPECT_EQ(v->stats().cache_hits, 14u);

  // Once past exp and the largest leeway the entry is gone: the pass is checked afresh.
  now_ = kNow + kLifetimeS + kMaxLeeway.count() + 1;
  EXPECT_EQ(v->verify(pass, expect()).code, ErrorCode::expired);
  EXPECT_EQ(v->stats().signature_checks, 2u);
  EXPECT_EQ(v->stats().cache_entries, 0u);
}

TEST_F(VerifierTest, CacheKeepsNeitherForgeriesNorExpiredPasses) {
  auto v = make(options());
  ASSERT_TRUE(v);
  std::string pass = es256_pass();
  pass[pass.size() - 5] = pass[pass.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(v->verify(pass, expect()).code, ErrorCode::bad_signature);
  EXPECT_EQ(v->verify(pass, expect()).code, ErrorCode::bad_signature);
  EXPECT_EQ(v->stats().signature_checks, 2u);
  auto request = pass_request();
  request.expires_at_s = kNow - 3600;
  const std::string expired = mint(*ring_, request);
  EXPECT_EQ(v->verify(expired, expect()).code, ErrorCode::expired);
  EXPECT_EQ(v->stats().cache_entries, 0u);
}

TEST_F(VerifierTest, CacheIsBounded) {
  Options o = options();
  o.cache_capacity = 4;
  auto v = make(o);
  ASSERT_TRUE(v);
  for (int i = 0; i < 40; ++i) {
    auto request = pass_request();
    request.ticket = "ticket-" + std::to_string(i);
    ASSERT_TRUE(v->verify(mint(*ring_, request), expect()).ok());
    EXPECT_LE(v->stats().cache_entries, 4u);
  }
  o = options();
  o.cache_capacity = 0;  // off
  auto uncached = make(o);
  const std::string pass = es256_pass();
  EXPECT_TRUE(uncached->verify(pass, expect()).ok());
  EXPECT_TRUE(uncached->verify(pass, expect()).ok());
  EXPECT_EQ(uncached->stats().signature_checks, 2u);
  EXPECT_EQ(uncached->stats().cache_entries, 0u);
}

// ---- loading keys ------------------------------------------------------------------------------

TEST_F(VerifierTest, LoadsJwksFromAFileOrFileUrl) {
  auto by_path = make(options());
  ASSERT_TRUE(by_path);
  EXPECT_EQ(by_path->stats().jwks_loads, 1u);
  EXPECT_TRUE(by_path->verify(es256_pass(), expect()).ok());
  auto by_url = make(options("file://" + jwks_path().string()));
  ASSERT_TRUE(by_url);
  EXPECT_TRUE(by_url->verify(rs256_pass(), expect()).ok());
}

TEST_F(VerifierTest, CreateFailsWithAReasonWhenKeysCannotBeLoaded) {
  auto error_of = [this](Options o) {
    std::string error;
    auto v = Verifier::create(std::move(o), &error);
    return v ? std::string("(created)") : error;
  };
  EXPECT_EQ(error_of(options("")), "jwks: is required (a URL or a file path)");
  EXPECT_EQ(error_of(options("/nonexistent/jwks.json")), "cannot open /nonexistent/jwks.json");
  const auto bad = temp_->path() / "bad.json";
  write_text(bad, "not json");
  EXPECT_EQ(error_of(options(bad.string())).rfind(bad.string() + ": JWKS is not JSON", 0), 0u)
      << error_of(options(bad.string()));
  write_text(bad, R"({"keys":[]})");
  EXPECT_EQ(error_of(options(bad.string())),
            bad.string() + ": JWKS has no usable ES256 or RS256 key");
  EXPECT_EQ(error_of(options("http://")).rfind("jwks: ", 0), 0u);
  EXPECT_EQ(error_of(options("http://user:pw@example.com/jwks")),
            "jwks: URL must not carry a user name or password");
  EXPECT_EQ(error_of(options("http://example.com:99999/jwks")), "jwks: URL port must be 1-65535");
  Options o = options("https://example.com/jwks");
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(error_of(o).rfind("ca_file: cannot load /nonexistent/ca.pem", 0), 0u) << error_of(o);
}

TEST_F(VerifierTest, SkipsKeysThatCannotSignPasses) {
  // A JWKS with a symmetric key, an EC key claiming HS256, an encryption key and a small RSA key
  // next to the real ones: only the real ones are kept, so an HS256 pass naming the symmetric
  // key's kid has nothing to be checked against.
  boost::json::object jwks = ring_->jwks();
  boost::json::array& keys = jwks["keys"].as_array();
  const std::string secret = "sixteen byte key";
  keys.push_back({{"kty", "oct"}, {"kid", "hmac"}, {"k", b64(secret)}, {"alg", "HS256"}});
  boost::json::object ec_as_hs = ring_->public_jwk(ring_->active_kid(token::Algorithm::ES256));
  ec_as_hs["kid"] = "ec-hs";
  ec_as_hs["alg"] = "HS256";
  keys.push_back(ec_as_hs);
  boost::json::object for_encryption = ec_as_hs;
  for_encryption["kid"] = "enc";
  for_encryption.erase("alg");
  for_encryption["use"] = "enc";
  keys.push_back(for_encryption);
  boost::json::object off_curve = ring_->public_jwk(ring_->active_kid(token::Algorithm::ES256));
  off_curve["kid"] = "off-curve";
  off_curve["y"] = off_curve["x"];
  keys.push_back(off_curve);
  keys.push_back(
      {{"kty", "RSA"}, {"kid", "rsa-1024"}, {"n", b64(std::string(128, '\x7f'))}, {"e", "AQAB"}});
  keys.push_back("not an object");
  const auto path = temp_->path() / "mixed.json";
  write_text(path, boost::json::serialize(jwks));

  auto v = make(options(path.string()));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->stats().keys, 2u);
  EXPECT_TRUE(v->verify(es256_pass(), expect()).ok());
  const std::string body = b64(boost::json::serialize(standard_claims()));
  for (const char* kid : {"hmac", "ec-hs"}) {
    const std::string input = b64(header_json("HS256", kid)) + "." + body;
    EXPECT_EQ(v->verify(input + "." + b64(hmac_sha256(secret, input)), expect()).code,
              ErrorCode::algorithm_not_allowed);
  }
  // A correctly shaped ES256 pass naming a skipped key's kid is an unknown kid.
  auto key = token::SigningKey::generate(token::Algorithm::ES256, kNow).value();
  key.kid = "enc";
  EXPECT_EQ(v->verify(token::sign_jwt(key, standard_claims()).value(), expect()).code,
            ErrorCode::unknown_kid);
}

TEST_F(VerifierTest, CanStartWithoutKeysAndPickThemUpLater) {
  const auto path = temp_->path() / "later.json";
  std::filesystem::remove(path);
  Options o = options(path.string());
  o.require_keys_at_start = false;
  auto v = make(o);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->stats().keys, 0u);
  EXPECT_EQ(v->stats().jwks_load_failures, 1u);
  EXPECT_EQ(v->stats().last_error, "cannot open " + path.string());
  const std::string pass = es256_pass();
  EXPECT_EQ(v->verify(pass, expect()).code, ErrorCode::unknown_kid);
  write_jwks(*ring_, path);
  EXPECT_TRUE(v->verify(pass, expect()).ok());  // the unknown kid made it look again
  EXPECT_EQ(v->stats().keys, 2u);
}

// ---- thread safety -----------------------------------------------------------------------------

TEST_F(VerifierTest, ManyThreadsVerifyWhileKeysRefresh) {
  auto v = make(options());
  ASSERT_TRUE(v);
  std::vector<std::string> passes;
  for (int i = 0; i < 8; ++i) {
    auto request = pass_request(i % 2 == 0 ? "ES256" : "RS256");
    request.ticket = "ticket-" + std::to_string(i);
    passes.push_back(mint(*ring_, request));
  }
  std::string forged = passes[0];
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const auto& pass = passes[static_cast<std::size_t>(i + t) % passes.size()];
        if (!v->verify(pass, expect()).ok()) ++wrong;
        if (v->verify(forged, expect()).ok()) ++wrong;
      }
    });
  }
  for (int i = 0; i < 30; ++i) {
    std::string error;
    EXPECT_TRUE(v->refresh(&error)) << error;
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(v->stats().jwks_loads, 31u);
}

// ---- JWKS over HTTP --------------------------------------------------------------------------

class VerifierHttp : public VerifierTest {
 protected:
  void SetUp() override {
    ring_dir_ = std::make_unique<testing::TempDir>();
    rotating_ = token::KeyRing::open(ring_dir_->path(), ring_clock_).value();
    server_.answer_jwks(*rotating_);
  }
  std::string pass_of(token::Algorithm alg) {
    return mint(*rotating_, pass_request(alg == token::Algorithm::ES256 ? "ES256" : "RS256"));
  }

  core::ManualClock ring_clock_;  // moved by hand to age keys out on rotate()
  std::unique_ptr<testing::TempDir> ring_dir_;
  std::unique_ptr<token::KeyRing> rotating_;
  JwksServer server_;
};

TEST_F(VerifierHttp, LoadsJwksFromTheServer) {
  auto v = make(options(server_.url()));
  ASSERT_TRUE(v);
  EXPECT_EQ(server_.requests(), 1);
  EXPECT_EQ(server_.last_target(), "/.well-known/jwks.json");
  EXPECT_TRUE(v->verify(pass_of(token::Algorithm::ES256), expect()).ok());
  EXPECT_TRUE(v->verify(pass_of(token::Algorithm::RS256), expect()).ok());
}

TEST_F(VerifierHttp, RefreshesOnUnknownKidAfterAKeyRotation) {
  auto v = make(options(server_.url()));
  ASSERT_TRUE(v);
  const std::string before = pass_of(token::Algorithm::ES256);
  ASSERT_TRUE(v->verify(before, expect()).ok());

  ASSERT_TRUE(rotating_->rotate(3600));  // new active keys; the old ones stay published
  server_.answer_jwks(*rotating_);
  const std::string after = pass_of(token::Algorithm::ES256);
  ASSERT_NE(kid_of(after), kid_of(before));
  const Result r = v->verify(after, expect());
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_EQ(v->stats().keys, 4u);
  EXPECT_TRUE(v->verify(before, expect()).ok());  // passes made before the rotation still work
  EXPECT_TRUE(v->verify(pass_of(token::Algorithm::RS256), expect()).ok());
  EXPECT_EQ(server_.requests(), 2);  // known kids need no fetch
}

TEST_F(VerifierHttp, UnknownKidRefreshesAreRateLimited) {
  Options o = options(server_.url());
  o.min_refresh_interval = 30s;
  auto v = make(o);
  ASSERT_TRUE(v);
  ASSERT_TRUE(rotating_->rotate(3600));
  server_.answer_jwks(*rotating_);
  // Within 30 s of the last fetch, unknown kids are refused without asking the server.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(v->verify(pass_of(token::Algorithm::ES256), expect()).code, ErrorCode::unknown_kid);
  EXPECT_EQ(server_.requests(), 1);
  // An explicit refresh is not rate-limited.
  EXPECT_TRUE(v->refresh());
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_TRUE(v->verify(pass_of(token::Algorithm::ES256), expect()).ok());
}

TEST_F(VerifierHttp, KeepsTheLastGoodKeysWhenTheServerFails) {
  auto v = make(options(server_.url()));
  ASSERT_TRUE(v);
  const std::string pass = pass_of(token::Algorithm::ES256);
  const std::string rs_pass = pass_of(token::Algorithm::RS256);
  ASSERT_TRUE(v->verify(pass, expect()).ok());

  server_.answer(500, R"({"error":"boom"})");
  std::string error;
  EXPECT_FALSE(v->refresh(&error));
  EXPECT_EQ(error, "GET " + server_.url() + ": answered HTTP 500");
  EXPECT_EQ(v->stats().last_error, error);
  EXPECT_EQ(v->stats().jwks_load_failures, 1u);
  EXPECT_EQ(v->stats().keys, 2u);
  EXPECT_TRUE(v->verify(pass, expect()).ok());
  EXPECT_TRUE(v->verify(rs_pass, expect()).ok());  // not cached yet: checked with the kept keys

  // A rotation the verifier cannot fetch: the new kid stays unknown, the old passes stay good.
  ASSERT_TRUE(rotating_->rotate(3600));
  EXPECT_EQ(v->verify(pass_of(token::Algorithm::ES256), expect()).code, ErrorCode::unknown_kid);
  EXPECT_EQ(v->stats().jwks_load_failures, 2u);

  for (const char* garbage : {"<html>", R"({"keys":[]})", R"({"keys":[{"kty":"oct","k":"AA"}]})"}) {
    server_.answer(200, garbage);
    EXPECT_FALSE(v->refresh(&error));
    EXPECT_EQ(v->stats().keys, 2u) << error;
  }
  EXPECT_TRUE(v->verify(pass, expect()).ok());

  server_.answer_jwks(*rotating_);  // the server is back
  EXPECT_TRUE(v->refresh(&error)) << error;
  EXPECT_TRUE(v->verify(pass_of(token::Algorithm::ES256), expect()).ok());
}

TEST_F(VerifierHttp, ARemovedKeyEmptiesTheCache) {
  auto v = make(options(server_.url()));
  ASSERT_TRUE(v);
  const std::string pass = pass_of(token::Algorithm::ES256);
  ASSERT_TRUE(v->verify(pass, expect()).ok());
  EXPECT_EQ(v->stats().cache_entries, 1u);

  // Two rotations with no retention: the key that signed `pass` is no longer published.
  ASSERT_TRUE(rotating_->rotate(0));
  ring_clock_.advance_ms(2000);  // retired_at + 0 < now needs the clock to move on
  ASSERT_TRUE(rotating_->rotate(0));
  server_.answer_jwks(*rotating_);
  ASSERT_TRUE(v->refresh());
  EXPECT_EQ(v->stats().cache_entries, 0u);
  EXPECT_EQ(v->verify(pass, expect()).code, ErrorCode::unknown_kid);

  // Adding keys keeps the cache.
  const std::string fresh = pass_of(token::Algorithm::ES256);
  ASSERT_TRUE(v->verify(fresh, expect()).ok());
  ASSERT_TRUE(rotating_->rotate(3600));
  server_.answer_jwks(*rotating_);
  ASSERT_TRUE(v->refresh());
  EXPECT_EQ(v->stats().cache_entries, 1u);
}

TEST_F(VerifierHttp, RefreshesPeriodically) {
  Options o = options(server_.url());
  o.refresh_interval = 1s;
  o.min_refresh_interval = 3600s;  // only the schedule may fetch
  auto v = make(o);
  ASSERT_TRUE(v);
  ASSERT_TRUE(rotating_->rotate(3600));
  server_.answer_jwks(*rotating_);
  ASSERT_TRUE(wait_until([&] { return v->stats().keys == 4; }, 5s));
  EXPECT_TRUE(v->verify(pass_of(token::Algorithm::ES256), expect()).ok());
}

TEST_F(VerifierHttp, RetriesSoonAfterAFailedPeriodicRefresh) {
  Options o = options(server_.url());
  o.refresh_interval = 3600s;
  o.min_refresh_interval = 1s;
  o.require_keys_at_start = false;
  server_.answer(503, "");
  auto v = make(o);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->stats().keys, 0u);
  server_.answer_jwks(*rotating_);
  ASSERT_TRUE(wait_until([&] { return v->stats().keys == 2; }, 5s));
}

TEST_F(VerifierHttp, GivesUpOnASilentServerAtTheTimeout) {
  server_.stay_silent();
  Options o = options(server_.url());
  o.fetch_timeout = 300ms;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  auto v = Verifier::create(o, &error);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(v);
  EXPECT_EQ(error, "GET " + server_.url() + ": no answer: timed out");
  EXPECT_LT(took, 2s);
  EXPECT_GE(took, 250ms);
}

TEST_F(VerifierHttp, ReportsARefusedConnection) {
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::refused_port()) + "/jwks";
  std::string error;
  EXPECT_FALSE(Verifier::create(options(url), &error));
  EXPECT_EQ(error.rfind("GET " + url + ": cannot connect: ", 0), 0u) << error;
}

// ---- JWKS over HTTPS ---------------------------------------------------------------------------

class VerifierTls : public VerifierTest {
 protected:
  void use_certificate(const char* names) {
    const testing::TestCertificate certificate = testing::make_server_certificate(names);
    server_tls_ = {certificate.cert_pem, certificate.key_pem};
    ca_file_ = dir_.path() / "ca.pem";
    std::ofstream(ca_file_) << certificate.cert_pem;
  }
  Options tls_options(const JwksServer& server, std::string_view host) {
    Options o = options(server.url(host));
    o.ca_file = ca_file_.string();
    return o;
  }

  testing::TestHttpServer::Tls server_tls_;
  testing::TempDir dir_;
  std::filesystem::path ca_file_;
};

TEST_F(VerifierTls, LoadsJwksOverHttpsFromAServerItTrusts) {
  use_certificate("DNS:localhost,IP:127.0.0.1");
  JwksServer server(server_tls_);
  server.answer_jwks(*ring_);
  // By name: SNI and a DNS name check; by address: the certificate's IP entry.
  for (const char* host : {"localhost", "127.0.0.1"}) {
    std::string error;
    auto v = Verifier::create(tls_options(server, host), &error);
    ASSERT_TRUE(v) << host << ": " << error;
    EXPECT_TRUE(v->verify(es256_pass(), expect()).ok());
  }
}

TEST_F(VerifierTls, RefusesAServerItDoesNotTrustOrForAnotherName) {
  use_certificate("DNS:elsewhere.example");
  JwksServer server(server_tls_);
  server.answer_jwks(*ring_);
  std::string error;
  // Trusted CA, wrong name.
  EXPECT_FALSE(Verifier::create(tls_options(server, "127.0.0.1"), &error));
  EXPECT_NE(error.find("TLS handshake failed"), std::string::npos) << error;
  // The system's CAs never signed the test certificate.
  Options o = tls_options(server, "127.0.0.1");
  o.ca_file.clear();
  EXPECT_FALSE(Verifier::create(o, &error));
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;
  EXPECT_EQ(server.requests(), 0);
}

}  // namespace
}  // namespace waitroom::verify
