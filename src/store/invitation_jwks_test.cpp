#include "store/invitation_jwks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "testing/fixed_time.hpp"
#include "testing/store_ops.hpp"
#include "token/signing_key.hpp"

namespace waitroom::store {
namespace {

constexpr const char* kJwksTestUrl = "https://site.example/jwks.json";

// What the site publishes, changed by the test; every fetch is counted.
class JwksTestSite {
 public:
  JwksFetch fetch() {
    return [this](const std::string&) -> std::expected<std::string, std::string> {
      ++fetches;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      const std::lock_guard lock(mutex_);
      if (!document_) return std::unexpected("answered 500, not 200");
      return *document_;
    };
  }
  // Publishes an ES256 key under each kid (an "oct" key under any kid starting with "oct").
  void publish(std::initializer_list<const char*> kids) {
    boost::json::array keys;
    for (const char* kid : kids) {
      boost::json::object jwk;
      if (std::string_view(kid).starts_with("oct")) {
        jwk = {{"kty", "oct"}, {"k", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}};
      } else {
        jwk = key_.public_jwk();
      }
      jwk["kid"] = kid;
      keys.push_back(std::move(jwk));
    }
    const std::lock_guard lock(mutex_);
    document_ = boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
  }
  void fail() {
    const std::lock_guard lock(mutex_);
    document_.reset();
  }

  std::atomic<int> fetches{0};
  std::atomic<int> delay_ms{0};  // how long a fetch takes

 private:
  std::mutex mutex_;
  std::optional<std::string> document_;
  token::SigningKey key_ =
      token::SigningKey::generate(token::Algorithm::ES256, testing::kNow).value();
};

struct JwksCacheTest : ::testing::Test {
  core::Result<JwkSetPtr> keys(const char* kid) {
    return testing::run(jwks.keys(kJwksTestUrl, kid));
  }
  bool has(const char* kid) {
    const auto got = keys(kid);
    return got && *got && (*got)->find(kid) != nullptr;
  }
  // Waits for the fetcher's background fetches to reach `n`.
  bool fetched(int n) {
    for (int i = 0; i < 500 && site.fetches < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // its answer stored
    return site.fetches == n;
  }

  core::ManualClock clock{testing::kNow * 1000};
  JwksTestSite site;
  InvitationJwks jwks{clock, site.fetch()};
};

TEST_F(JwksCacheTest, FirstUseWaitsForTheFetchThenTheKeysAreCached) {
  site.publish({"k1"});
  EXPECT_TRUE(has("k1"));
  EXPECT_TRUE(has("k1"));
  clock.advance_ms(kJwksFreshMs - 1);
  EXPECT_TRUE(has("k1"));
  EXPECT_EQ(site.fetches, 1);
}

TEST_F(JwksCacheTest, AnUnknownKidFetchesAgainAtMostOncePerRetryInterval) {
  site.publish({"k1"});
  EXPECT_TRUE(has("k1"));
  site.publish({"k1", "k2"});
  EXPECT_FALSE(has("k2"));  // just fetched: the site is not asked again yet
  EXPECT_EQ(site.fetches, 1);
  clock.advance_ms(kJwksRetryMs);
  EXPECT_TRUE(has("k2"));
  EXPECT_EQ(site.fetches, 2);
  EXPECT_FALSE(has("forged"));  // a forged kid costs no fetch within the interval
  EXPECT_EQ(site.fetches, 2);
}

TEST_F(JwksCacheTest, StaleKeysAreServedWhileFetchedAgainInTheBackground) {
  site.publish({"k1"});
  EXPECT_TRUE(has("k1"));
  site.publish({"k2"});
  clock.advance_ms(kJwksFreshMs);
  EXPECT_TRUE(has("k1"));  // at once, from the cache
  ASSERT_TRUE(fetched(2));
  EXPECT_TRUE(has("k2"));
  EXPECT_FALSE(has("k1"));
  EXPECT_EQ(site.fetches, 2);
}

TEST_F(JwksCacheTest, AFailedFetchKeepsTheLastGoodKeys) {
  site.publish({"k1"});
  EXPECT_TRUE(has("k1"));
  site.fail();
  clock.advance_ms(kJwksFreshMs);
  EXPECT_TRUE(has("k1"));
  ASSERT_TRUE(fetched(2));
  EXPECT_TRUE(has("k1"));
  std::string metrics;
  jwks.render_metrics(metrics);
  EXPECT_NE(metrics.find("waitroom_invitation_jwks_fetches_total{result=\"ok\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("waitroom_invitation_jwks_fetches_total{result=\"failed\"} 1\n"),
            std::string::npos)
      << metrics;
}

TEST_F(JwksCacheTest, WithoutAnyKeysAJoinIsRefusedUnavailable) {
  site.fail();
  const auto refused = keys("k1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::unavailable);
  EXPECT_EQ(refused.error().retry_after_s, kJwksRetryMs / 1000);
  EXPECT_FALSE(keys("k1"));
  EXPECT_EQ(site.fetches, 1);  // not again within the interval
  site.publish({"k1"});
  clock.advance_ms(kJwksRetryMs);
  EXPECT_TRUE(has("k1"));
}

TEST_F(JwksCacheTest, ADocumentWithoutUsableKeysIsAFailure) {
  site.publish({"oct-1"});
  EXPECT_FALSE(keys("oct-1"));
}

TEST_F(JwksCacheTest, ConcurrentJoinsShareOneFetch) {
  site.publish({"k1"});
  site.delay_ms = 50;  // the later joins come while the first one's fetch is under way
  boost::asio::io_context io;
  int answered = 0;
  for (int i = 0; i < 4; ++i) {
    boost::asio::co_spawn(io, jwks.keys(kJwksTestUrl, "k1"),
                          [&](std::exception_ptr e, core::Result<JwkSetPtr> got) {
                            EXPECT_FALSE(e);
                            EXPECT_TRUE(got && (*got)->find("k1") != nullptr);
                            ++answered;
                          });
  }
  io.run();
  EXPECT_EQ(answered, 4);
  EXPECT_EQ(site.fetches, 1);
}

}  // namespace
}  // namespace waitroom::store
