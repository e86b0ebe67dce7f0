#include "web/dashboard/admin_sessions.hpp"

#include <gtest/gtest.h>

#include <set>

#include "web/dashboard/same_origin.hpp"
#include "web/dashboard/sign_in_throttle.hpp"

namespace waitroom::web::dashboard {
namespace {

constexpr std::int64_t kS = 1000;

TEST(AdminSessions, CreateFindRemove) {
  core::ManualClock clock;
  AdminSessions sessions({3600, 86400, 10}, clock);
  const NewSession s = sessions.create({});
  EXPECT_GE(s.id.size(), 43u);  // 256 bits in base64url
  EXPECT_GE(s.csrf_token.size(), 43u);
  EXPECT_NE(s.id, s.csrf_token);
  auto found = sessions.find(s.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->csrf_token, s.csrf_token);
  EXPECT_FALSE(sessions.find(""));
  EXPECT_FALSE(sessions.find(s.id + "x"));
  EXPECT_FALSE(sessions.find(s.csrf_token));  // the token is not an id
  sessions.remove(s.id);
  EXPECT_FALSE(sessions.find(s.id));
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(AdminSessions, EachSessionRemembersWhoSignedItIn) {
  core::ManualClock clock;
  AdminSessions sessions({3600, 86400, 10}, clock);
  const NewSession key = sessions.create({store::OperatorRole::admin, {}, "admin key", {}});
  const NewSession alice = sessions.create(
      {store::OperatorRole::viewer, {"sale", "launch"}, "alice", "0123456789abcdef"});
  auto k = sessions.find(key.id);
  auto a = sessions.find(alice.id);
  ASSERT_TRUE(k && a);
  EXPECT_EQ(k->caller.role, store::OperatorRole::admin);
  EXPECT_EQ(k->caller.name, "admin key");
  EXPECT_TRUE(k->caller.token_id.empty());
  EXPECT_TRUE(k->caller.rooms.empty());
  EXPECT_EQ(a->caller.role, store::OperatorRole::viewer);
  EXPECT_EQ(a->caller.name, "alice");
  EXPECT_EQ(a->caller.token_id, "0123456789abcdef");
  EXPECT_EQ(a->caller.rooms, (std::vector<std::string>{"sale", "launch"}));
  EXPECT_EQ(a->csrf_token, alice.csrf_token);
  // Ending one leaves the other's caller as it was.
  sessions.remove(key.id);
  EXPECT_FALSE(sessions.find(key.id));
  ASSERT_TRUE(sessions.find(alice.id));
  EXPECT_EQ(sessions.find(alice.id)->caller.name, "alice");
}

TEST(AdminSessions, IdsAreDistinct) {
  core::ManualClock clock;
  AdminSessions sessions({3600, 86400, 1000}, clock);
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.insert(sessions.create({}).id);
  EXPECT_EQ(ids.size(), 200u);
}

TEST(AdminSessions, IdleTimeoutIsRenewedByUse) {
  core::ManualClock clock;
  AdminSessions sessions({60, 86400, 10}, clock);
  const NewSession s = sessions.create({});
  clock.advance_ms(59 * kS);
  EXPECT_TRUE(sessions.find(s.id));  // a use: the idle clock starts again
  clock.advance_ms(59 * kS);
  EXPECT_TRUE(sessions.find(s.id));
  clock.advance_ms(60 * kS);
  EXPECT_FALSE(sessions.find(s.id));
  EXPECT_EQ(sessions.size(), 0u);  // an expired session found is gone
}

TEST(AdminSessions, LifetimeEndsEvenAnActiveSession) {
  core::ManualClock clock;
  AdminSessions sessions({60, 300, 10}, clock);
  const NewSession s = sessions.create({});
  for (int i = 0; i < 9; ++i) {
    clock.advance_ms(30 * kS);
    EXPECT_TRUE(sessions.find(s.id)) << i;
  }
  clock.advance_ms(30 * kS);
  EXPECT_FALSE(sessions.find(s.id));
}

TEST(AdminSessions, FullTableEndsTheLeastRecentlyUsed) {
  core::ManualClock clock;
  AdminSessions sessions({3600, 86400, 3}, clock);
  const NewSession a = sessions.create({});
  clock.advance_ms(kS);
  const NewSession b = sessions.create({});
  clock.advance_ms(kS);
  const NewSession c = sessions.create({});
  clock.advance_ms(kS);
  EXPECT_TRUE(sessions.find(a.id));  // a is now the most recently used; b the least
  clock.advance_ms(kS);
  const NewSession d = sessions.create({});
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_TRUE(sessions.find(a.id));
  EXPECT_FALSE(sessions.find(b.id));
  EXPECT_TRUE(sessions.find(c.id));
  EXPECT_TRUE(sessions.find(d.id));
}

TEST(AdminSessions, ExpiredSessionsMakeRoomFirst) {
  core::ManualClock clock;
  AdminSessions sessions({60, 86400, 2}, clock);
  const NewSession a = sessions.create({});
  clock.advance_ms(30 * kS);
  const NewSession b = sessions.create({});
  clock.advance_ms(40 * kS);  // a idle for 70 s: expired; b for 40 s
  const NewSession c = sessions.create({});
  EXPECT_TRUE(sessions.find(b.id));
  EXPECT_TRUE(sessions.find(c.id));
}

TEST(SecretsEqual, ComparesWholeValues) {
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_FALSE(secrets_equal("abc", ""));
  EXPECT_TRUE(secrets_equal("", ""));
}

TEST(SignInThrottle, LocksAnAddressAfterTooManyFailures) {
  core::ManualClock clock(1'700'000'000'000);
  SignInThrottle t(clock);
  const std::string a = "192.0.2.1";
  for (int i = 0; i < SignInThrottle::kMaxFailures; ++i) {
    EXPECT_EQ(t.retry_after_s(a), 0) << i;
    t.record_failure(a);
  }
  EXPECT_EQ(t.retry_after_s(a), SignInThrottle::kWindowS);
  EXPECT_EQ(t.retry_after_s("192.0.2.2"), 0);  // others are not affected
  clock.advance_ms(20 * kS);
  EXPECT_EQ(t.retry_after_s(a), SignInThrottle::kWindowS - 20);
  clock.advance_ms((SignInThrottle::kWindowS - 20) * kS);
  EXPECT_EQ(t.retry_after_s(a), 0);
  t.record_failure(a);  // a new window
  EXPECT_EQ(t.retry_after_s(a), 0);
}

TEST(SignInThrottle, SuccessClears) {
  core::ManualClock clock;
  SignInThrottle t(clock);
  for (int i = 0; i < SignInThrottle::kMaxFailures - 1; ++i) t.record_failure("a");
  t.record_success("a");
  t.record_failure("a");
  EXPECT_EQ(t.retry_after_s("a"), 0);
}

TEST(SignInThrottle, MemoryIsBounded) {
  core::ManualClock clock;
  SignInThrottle t(clock);
  for (std::size_t i = 0; i < SignInThrottle::kMaxAddresses + 50; ++i)
    t.record_failure("addr" + std::to_string(i));
  for (int i = 0; i < SignInThrottle::kMaxFailures; ++i) t.record_failure("last");
  EXPECT_GT(t.retry_after_s("last"), 0);
}

TEST(CrossOrigin, SameOriginPasses) {
  EXPECT_FALSE(cross_origin_reason({"same-origin", "http://127.0.0.1:8080", "127.0.0.1:8080", ""}));
  EXPECT_FALSE(cross_origin_reason({"", "https://Queue.Example.com", "queue.example.com", ""}));
  // Neither header (an old browser, a script): the CSRF token alone decides.
  EXPECT_FALSE(cross_origin_reason({"", "", "queue.example.com", ""}));
  // Behind a proxy that rewrites Host, the configured public URL is this server's origin.
  EXPECT_FALSE(cross_origin_reason(
      {"same-origin", "https://queue.example.com", "127.0.0.1:8080", "https://queue.example.com"}));
}

TEST(CrossOrigin, OtherOriginsAreRefused) {
  EXPECT_TRUE(cross_origin_reason({"cross-site", "", "queue.example.com", ""}));
  EXPECT_TRUE(cross_origin_reason({"same-site", "", "queue.example.com", ""}));
  EXPECT_TRUE(cross_origin_reason({"none", "", "queue.example.com", ""}));
  EXPECT_TRUE(cross_origin_reason({"", "https://evil.example", "queue.example.com", ""}));
  EXPECT_TRUE(cross_origin_reason({"", "null", "queue.example.com", ""}));
  EXPECT_TRUE(
      cross_origin_reason({"", "https://queue.example.com.evil.example", "queue.example.com", ""}));
  EXPECT_TRUE(cross_origin_reason({"", "https://user@queue.example.com", "queue.example.com", ""}));
  EXPECT_TRUE(cross_origin_reason({"", "https://queue.example.com", "", ""}));
  EXPECT_TRUE(cross_origin_reason(
      {"", "https://evil.example", "queue.example.com", "https://queue.example.com"}));
  auto reason = cross_origin_reason({"", "https://evil.example", "queue.example.com", ""});
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("evil.example"), std::string::npos);
}

}  // namespace
}  // namespace waitroom::web::dashboard
