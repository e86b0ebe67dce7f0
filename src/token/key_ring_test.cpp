#include "token/key_ring.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "testing/files.hpp"
#include "testing/temp_dir.hpp"
#include "token/atomic_file.hpp"
#include "token/base64url.hpp"
#include "token/jws.hpp"

namespace waitroom::token {
namespace {

constexpr std::int64_t kDayS = 24 * 3600;

using testing::mode_of;

std::string kid_of(const std::string& jwt) {
  const auto header = base64url_decode(jwt.substr(0, jwt.find('.'))).value();
  return std::string(boost::json::parse(header).as_object().at("kid").as_string());
}

std::string active_kid(const KeyRing& ring, Algorithm alg) {
  for (const KeyInfo& info : ring.list()) {
    if (info.alg == alg && info.active) return info.kid;
  }
  return {};
}

class KeyRingTest : public ::testing::Test {
 protected:
  std::unique_ptr<KeyRing> open_ring() {
    auto ring = KeyRing::open(dir_, clock_);
    EXPECT_TRUE(ring) << ring.error().detail;
    return ring ? std::move(*ring) : nullptr;
  }

  testing::TempDir temp_;
  std::filesystem::path dir_ = temp_.path() / "keys";
  core::ManualClock clock_;
  boost::json::object claims_{{"sub", "v1"}, {"exp", 1'700'000'600}};
};

TEST_F(KeyRingTest, FreshDirectoryGetsOneKeyPerAlgorithmWithOwnerOnlyFiles) {
  const auto ring = open_ring();
  ASSERT_TRUE(ring);
  const auto keys = ring->list();
  ASSERT_EQ(keys.size(), 2u);
  for (const Algorithm alg : kAllAlgorithms) {
    const auto n = std::ranges::count_if(keys, [&](const KeyInfo& k) { return k.alg == alg; });
    EXPECT_EQ(n, 1);
  }
  for (const KeyInfo& key : keys) {
    EXPECT_TRUE(key.active);
    EXPECT_FALSE(key.retired_at_s);
    EXPECT_EQ(key.created_at_s, clock_.now_s());
    EXPECT_EQ(mode_of(dir_ / (key.kid + ".pem")), 0600u);
  }
  EXPECT_EQ(mode_of(dir_), 0700u);
  EXPECT_EQ(mode_of(dir_ / "keys.json"), 0600u);
  const auto manifest = boost::json::parse(read_small_file(dir_ / "keys.json", 1 << 20).value());
  ASSERT_TRUE(manifest.is_array());
  EXPECT_EQ(manifest.as_array().size(), 2u);
  EXPECT_TRUE(manifest.as_array()[0].as_object().at("retired_at").is_null());
}

TEST_F(KeyRingTest, SignsAndVerifiesBothAlgorithms) {
  const auto ring = open_ring();
  for (const Algorithm alg : kAllAlgorithms) {
    const auto jwt = ring->sign(alg, claims_);
    ASSERT_TRUE(jwt) << jwt.error().detail;
    EXPECT_EQ(kid_of(*jwt), active_kid(*ring, alg));
    const auto claims = ring->verify(*jwt);
    ASSERT_TRUE(claims) << claims.error().detail;
    EXPECT_EQ(*claims, claims_);
  }
}

TEST_F(KeyRingTest, RejectsTamperedUnknownKidAndKidless) {
  const auto ring = open_ring();
  std::string jwt = ring->sign(Algorithm::ES256, claims_).value();
  std::string tampered = jwt;
  tampered[jwt.find('.') + 5] ^= 0x01;
  EXPECT_FALSE(ring->verify(tampered));

  const std::string rest = jwt.substr(jwt.find('.'));
  const auto unknown = ring->verify(
      base64url_encode(R"({"alg":"ES256","kid":"00000000000000000000000000000000","typ":"JWT"})") +
      rest);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::unauthorized);
  EXPECT_FALSE(ring->verify(base64url_encode(R"({"alg":"ES256","typ":"JWT"})") + rest));
  EXPECT_FALSE(ring->verify("garbage"));

  // A key from another ring (another deployment) is unknown here.
  testing::TempDir other_dir;
  const auto other = KeyRing::open(other_dir.path(), clock_).value();
  EXPECT_FALSE(ring->verify(other->sign(Algorithm::ES256, claims_).value()));
}

TEST_F(KeyRingTest, RsHeaderOnEcKeyFails) {
  const auto ring = open_ring();
  const std::string jwt = ring->sign(Algorithm::ES256, claims_).value();
  const std::string kid = kid_of(jwt);
  const std::string forged =
      base64url_encode(R"({"alg":"RS256","kid":")" + kid + R"(","typ":"JWT"})") +
      jwt.substr(jwt.find('.'));
  EXPECT_FALSE(ring->verify(forged));
}

TEST_F(KeyRingTest, RotateKeepsOldKeysVerifiableAndPublished) {
  const auto ring = open_ring();
  const std::string old_es = ring->sign(Algorithm::ES256, claims_).value();
  const std::string old_rs = ring->sign(Algorithm::RS256, claims_).value();
  clock_.advance_ms(1000 * 3600);

  const auto rotated = ring->rotate(kDayS);
  ASSERT_TRUE(rotated) << rotated.error().detail;
  ASSERT_EQ(rotated->size(), 4u);
  EXPECT_EQ(rotated->size(), ring->list().size());
  for (const KeyInfo& key : *rotated) {
    if (key.kid == kid_of(old_es) || key.kid == kid_of(old_rs)) {
      EXPECT_FALSE(key.active);
      EXPECT_EQ(key.retired_at_s, clock_.now_s());
    } else {
      EXPECT_TRUE(key.active);
      EXPECT_EQ(key.created_at_s, clock_.now_s());
    }
  }
  EXPECT_TRUE(ring->verify(old_es));
  EXPECT_TRUE(ring->verify(old_rs));
  const std::string new_es = ring->sign(Algorithm::ES256, claims_).value();
  EXPECT_NE(kid_of(new_es), kid_of(old_es));
  EXPECT_EQ(kid_of(new_es), active_kid(*ring, Algorithm::ES256));
  EXPECT_NE(kid_of(ring->sign(Algorithm::RS256, claims_).value()), kid_of(old_rs));

  const auto jwks = ring->jwks();
  ASSERT_EQ(jwks.at("keys").as_array().size(), 4u);
  EXPECT_FALSE(ring->public_jwk(kid_of(old_es)).empty());
  EXPECT_FALSE(ring->public_jwk(kid_of(new_es)).empty());
}

TEST_F(KeyRingTest, PrunesRetiredKeysAfterRetention) {
  const auto ring = open_ring();
  const std::string first = ring->sign(Algorithm::ES256, claims_).value();
  ASSERT_TRUE(ring->rotate(kDayS));  // first key retired now
  const std::string second = ring->sign(Algorithm::ES256, claims_).value();

  clock_.advance_ms(kDayS * 1000);  // retired_at + retain == now: kept
  ASSERT_EQ(ring->rotate(kDayS)->size(), 6u);
  EXPECT_TRUE(ring->verify(first));

  clock_.advance_ms(1000);  // now past retired_at + retain for the first pair only
  const auto list = ring->rotate(kDayS).value();
  EXPECT_EQ(list.size(), 6u);
  EXPECT_FALSE(ring->verify(first));
  EXPECT_TRUE(ring->public_jwk(kid_of(first)).empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / (kid_of(first) + ".pem")));
  EXPECT_TRUE(ring->verify(second));
  EXPECT_EQ(ring->jwks().at("keys").as_array().size(), 6u);

  EXPECT_EQ(ring->rotate(-1).error().code, core::ErrorCode::bad_request);
}

TEST_F(KeyRingTest, RotateWithZeroRetentionKeepsJustRetiredKeys) {
  const auto ring = open_ring();
  const std::string jwt = ring->sign(Algorithm::RS256, claims_).value();
  ASSERT_EQ(ring->rotate(0)->size(), 4u);
  EXPECT_TRUE(ring->verify(jwt));
  clock_.advance_ms(1000);
  ASSERT_EQ(ring->rotate(0)->size(), 4u);  // the first pair is gone, the second retired
  EXPECT_FALSE(ring->verify(jwt));
}

TEST_F(KeyRingTest, ReopenYieldsSameKeysAndVerifiesOldTokens) {
  std::string es, rs;
  std::vector<KeyInfo> before;
  {
    const auto ring = open_ring();
    ASSERT_TRUE(ring->rotate(kDayS));
    es = ring->sign(Algorithm::ES256, claims_).value();
    rs = ring->sign(Algorithm::RS256, claims_).value();
    before = ring->list();
  }
  const auto ring = open_ring();
  const auto after = ring->list();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].kid, before[i].kid);
    EXPECT_EQ(after[i].alg, before[i].alg);
    EXPECT_EQ(after[i].created_at_s, before[i].created_at_s);
    EXPECT_EQ(after[i].retired_at_s, before[i].retired_at_s);
    EXPECT_EQ(after[i].active, before[i].active);
  }
  EXPECT_TRUE(ring->verify(es));
  EXPECT_TRUE(ring->verify(rs));
  EXPECT_EQ(kid_of(ring->sign(Algorithm::ES256, claims_).value()), kid_of(es));
}

TEST_F(KeyRingTest, ReloadPicksUpAnotherProcesssRotation) {
  const auto server = open_ring();
  const auto cli = open_ring();
  const std::string old_kid = active_kid(*server, Algorithm::ES256);
  ASSERT_EQ(active_kid(*cli, Algorithm::ES256), old_kid);

  ASSERT_TRUE(cli->rotate(kDayS));
  const std::string new_jwt = cli->sign(Algorithm::ES256, claims_).value();
  EXPECT_FALSE(server->verify(new_jwt));  // not seen until reload
  ASSERT_TRUE(server->reload());
  EXPECT_TRUE(server->verify(new_jwt));
  EXPECT_EQ(active_kid(*server, Algorithm::ES256), kid_of(new_jwt));

  // A server-side rotation starts from the directory, so it keeps the CLI's keys too.
  ASSERT_EQ(server->rotate(kDayS)->size(), 6u);
}

TEST_F(KeyRingTest, FailedReloadKeepsCurrentKeys) {
  const auto ring = open_ring();
  const std::string jwt = ring->sign(Algorithm::ES256, claims_).value();
  ASSERT_TRUE(write_file_atomically(dir_ / "keys.json", "{broken", 0600));
  EXPECT_FALSE(ring->reload());
  EXPECT_TRUE(ring->verify(jwt));
  EXPECT_TRUE(ring->sign(Algorithm::RS256, claims_));
  EXPECT_FALSE(KeyRing::open(dir_, clock_));
}

TEST_F(KeyRingTest, RejectsBadManifests) {
  const auto ring = open_ring();
  const auto manifest = read_small_file(dir_ / "keys.json", 1 << 20).value();
  const auto entries = boost::json::parse(manifest).as_array();
  auto with = [&](const boost::json::array& a) {
    EXPECT_TRUE(write_file_atomically(dir_ / "keys.json", boost::json::serialize(a), 0600));
    return KeyRing::open(dir_, clock_);
  };
  boost::json::array traversal = entries;
  traversal[0].as_object()["kid"] = "../../../../../../../../etc/passwd";
  EXPECT_FALSE(with(traversal));
  boost::json::array bad_alg = entries;
  bad_alg[0].as_object()["alg"] = "HS256";
  EXPECT_FALSE(with(bad_alg));
  boost::json::array duplicate = entries;
  duplicate.push_back(entries[0]);
  EXPECT_FALSE(with(duplicate));
  boost::json::array swapped = entries;  // the PEM is not of the listed algorithm
  swapped[0].as_object()["alg"] = swapped[1].as_object()["alg"];
  EXPECT_FALSE(with(swapped));
  std::filesystem::remove(dir_ /
                          (std::string(entries[0].as_object().at("kid").as_string()) + ".pem"));
  EXPECT_FALSE(with(entries));
}

TEST_F(KeyRingTest, JwksShapes) {
  const auto ring = open_ring();
  const auto jwks = ring->jwks();
  EXPECT_EQ(jwks.size(), 1u);
  const auto& keys = jwks.at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  for (const auto& value : keys) {
    const auto& jwk = value.as_object();
    EXPECT_EQ(jwk.at("use"), "sig");
    EXPECT_EQ(ring->public_jwk(jwk.at("kid").as_string()), jwk);
    if (jwk.at("kty") == "EC") {
      EXPECT_EQ(jwk.at("alg"), "ES256");
      EXPECT_EQ(jwk.at("crv"), "P-256");
      EXPECT_EQ(base64url_decode(jwk.at("x").as_string())->size(), 32u);
      EXPECT_EQ(base64url_decode(jwk.at("y").as_string())->size(), 32u);
    } else {
      EXPECT_EQ(jwk.at("kty"), "RSA");
      EXPECT_EQ(jwk.at("alg"), "RS256");
      EXPECT_EQ(jwk.at("e"), "AQAB");
      EXPECT_EQ(base64url_decode(jwk.at("n").as_string())->size(), 256u);
    }
    EXPECT_FALSE(jwk.contains("d"));
  }
  EXPECT_TRUE(ring->public_jwk("nope").empty());
}

TEST_F(KeyRingTest, ConcurrentSignVerifyDuringRotation) {
  const auto ring = open_ring();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const Algorithm alg = t % 2 == 0 ? Algorithm::ES256 : Algorithm::RS256;
      while (!stop.load()) {
        const auto jwt = ring->sign(alg, claims_);
        // Retention is long, so a token signed just before a rotation still verifies after it.
        if (!jwt || !ring->verify(*jwt)) ++failures;
        (void)ring->jwks();
      }
    });
  }
  for (int i = 0; i < 3; ++i) {
    clock_.advance_ms(1000);
    ASSERT_TRUE(ring->rotate(kDayS));
    ASSERT_TRUE(ring->reload());
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ring->list().size(), 8u);
}

TEST_F(KeyRingTest, RingOfOneAlgorithmHoldsOnlyThatAlgorithmsKeys) {
  constexpr Algorithm kEs256Only[] = {Algorithm::ES256};
  const auto vapid_dir = temp_.path() / "vapid";
  const auto ring = KeyRing::open(vapid_dir, clock_, kEs256Only).value();
  ASSERT_EQ(ring->list().size(), 1u);
  EXPECT_EQ(ring->list()[0].alg, Algorithm::ES256);
  const std::string jwt = ring->sign(Algorithm::ES256, claims_).value();
  EXPECT_TRUE(ring->verify(jwt));
  EXPECT_EQ(ring->sign(Algorithm::RS256, claims_).error().code, core::ErrorCode::internal);
  EXPECT_EQ(ring->active_kid(Algorithm::RS256), "");
  EXPECT_EQ(ring->active_key(Algorithm::RS256).error().code, core::ErrorCode::internal);

  // The key itself, active or retired, until it is pruned.
  const std::string first = ring->active_kid(Algorithm::ES256);
  EXPECT_EQ(ring->active_key(Algorithm::ES256)->kid, first);
  EXPECT_EQ(ring->active_key(Algorithm::ES256)->public_jwk(), ring->public_jwk(first));
  clock_.advance_ms(1000);
  const auto rotated = ring->rotate(kDayS).value();
  ASSERT_EQ(rotated.size(), 2u);
  for (const KeyInfo& key : rotated) EXPECT_EQ(key.alg, Algorithm::ES256);
  EXPECT_NE(ring->active_kid(Algorithm::ES256), first);
  const auto kept = ring->key(first);
  ASSERT_TRUE(kept) << kept.error().detail;
  EXPECT_TRUE(kept->retired_at_s);
  EXPECT_TRUE(ring->verify(sign_jwt(*kept, claims_).value()));
  clock_.advance_ms((kDayS + 1) * 1000);
  ASSERT_EQ(ring->rotate(kDayS)->size(), 2u);
  EXPECT_EQ(ring->key(first).error().code, core::ErrorCode::gone);
  EXPECT_EQ(ring->key("nope").error().code, core::ErrorCode::gone);

  // Reopened the same way: the same keys; reopened as a full ring, it gains an RS256 key.
  EXPECT_EQ(KeyRing::open(vapid_dir, clock_, kEs256Only).value()->list().size(), 2u);
  EXPECT_EQ(KeyRing::open(vapid_dir, clock_).value()->list().size(), 3u);
  // And now it holds an RS256 key, which a ring of ES256 alone refuses.
  EXPECT_FALSE(KeyRing::open(vapid_dir, clock_, kEs256Only));
  // The default directory's keys are refused by an ES256 ring too.
  ASSERT_TRUE(open_ring());
  EXPECT_FALSE(KeyRing::open(dir_, clock_, kEs256Only));
}

TEST_F(KeyRingTest, RingNeedsDistinctAlgorithms) {
  EXPECT_FALSE(KeyRing::open(dir_, clock_, std::span<const Algorithm>{}));
  constexpr Algorithm kTwice[] = {Algorithm::ES256, Algorithm::ES256};
  EXPECT_FALSE(KeyRing::open(dir_, clock_, kTwice));
  EXPECT_FALSE(std::filesystem::exists(dir_));  // refused before anything is written
}

TEST_F(KeyRingTest, KeyAndActiveKeyOfTheDefaultRing) {
  const auto ring = open_ring();
  for (const Algorithm alg : kAllAlgorithms) {
    const auto key = ring->active_key(alg);
    ASSERT_TRUE(key) << key.error().detail;
    EXPECT_EQ(key->alg, alg);
    EXPECT_EQ(key->kid, ring->active_kid(alg));
    EXPECT_EQ(ring->key(key->kid)->kid, key->kid);
    EXPECT_TRUE(ring->verify(sign_jwt(*key, claims_).value()));
  }
}

}  // namespace
}  // namespace waitroom::token
