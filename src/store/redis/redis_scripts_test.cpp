// The scripts that make a room's changes atomic (redis_scripts.hpp), on a real redis-server: the
// write lock is exclusive, a commit is refused when the lock was lost, the log moved or the
// driver lease belongs to another node, and the lease is renewed by its holder only; a node that
// takes over a lease that ran out lets go of the write lock its last holder left.
#include "store/redis/redis_scripts.hpp"

#include <gtest/gtest.h>

#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_test_util.hpp"

namespace waitroom::store::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using waitroom::testing::RedisServer;
using waitroom::testing::run_awaitable;
using waitroom::testing::sleep_for;

const RedisKeys kKeys("test");

// begin(token) for room "r": {taken, length or pttl, records...}. Arguments are views of literals
// and references: no non-trivial temporary may sit in a co_await expression with g++ 12.
// The node's id is the token's part before the colon; `previous` is its token of its last change.
asio::awaitable<core::Result<Reply>> begin(RedisConnection& redis, std::string_view token,
                                           std::uint64_t from, std::string_view lock_ms = "2000",
                                           std::string_view previous = "") {
  std::vector<std::string> keys{kKeys.log("r"), kKeys.write_lock("r"), kKeys.lock_wanted("r")};
  std::vector<std::string> args{std::string(token), std::string(lock_ms), std::to_string(from),
                                std::string(token.substr(0, token.find(':'))),
                                std::string(previous)};
  auto op = run_script(redis, begin_script(), std::move(keys), std::move(args));
  co_return co_await std::move(op);
}

// commit(token, expected length, fence, keep_ms, records...): keep_ms "0" lets the lock go.
template <class... Records>
asio::awaitable<core::Result<Reply>> commit_keeping(RedisConnection& redis, std::string_view token,
                                                    std::uint64_t length, std::string_view fence,
                                                    std::string_view keep_ms,
                                                    const Records&... records) {
  std::vector<std::string> keys{kKeys.log("r"), kKeys.write_lock("r"), kKeys.driver("r"),
                                kKeys.lock_wanted("r")};
  std::vector<std::string> args{std::string(token),
                                std::to_string(length),
                                std::string(fence),
                                kKeys.changes_channel(),
                                "r node",
                                std::string(keep_ms),
                                std::string(std::string_view(records))...};
  auto op = run_script(redis, commit_script(), std::move(keys), std::move(args));
  co_return co_await std::move(op);
}

template <class... Records>
asio::awaitable<core::Result<Reply>> commit(RedisConnection& redis, std::string_view token,
                                            std::uint64_t length, std::string_view fence,
                                            const Records&... records) {
  auto op = commit_keeping(redis, token, length, fence, "0", records...);
  co_return co_await std::move(op);
}

// lease(node) for room "r", as the driver asks for it: with the room's driver_was and lock keys,
// and the life left below which the last driver's lock is a dead node's (1000 ms).
asio::awaitable<core::Result<Reply>> lease(RedisConnection& redis, std::string_view node,
                                           std::string_view lease_ms = "1200") {
  std::vector<std::string> keys{kKeys.driver("r"), kKeys.driver_was("r"), kKeys.write_lock("r")};
  std::vector<std::string> args{std::string(node), std::string(lease_ms), "1000"};
  auto op = run_script(redis, lease_script(), std::move(keys), std::move(args));
  co_return co_await std::move(op);
}

bool ok(const core::Result<Reply>& r) {
  return r && r->type == Reply::Type::array && !r->elements.empty() && r->elements[0].integer == 1;
}

TEST(RedisScripts, TheWriteLockIsExclusiveAndACommitAppendsOnceUnderIt) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  ASSERT_TRUE(server.start());
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    auto a = co_await begin(redis, "node-a:1", 0);
    CO_ASSERT_TRUE(ok(a));
    EXPECT_EQ(a->elements[1].integer, 0);
    auto b = co_await begin(redis, "node-b:1", 0);  // another node waits for A
    CO_ASSERT_TRUE(b && b->type == Reply::Type::array);
    EXPECT_EQ(b->elements[0].integer, 0);
    EXPECT_GT(b->elements[1].integer, 0);  // the lock's remaining life
    auto done = co_await commit(redis, "node-a:1", 0, "", "rec1", "rec2");
    CO_ASSERT_TRUE(ok(done));
    EXPECT_EQ(done->elements[1].integer, 2);
    // The lock is free again, and B's copy learns the two records under it.
    b = co_await begin(redis, "node-b:2", 0);
    CO_ASSERT_TRUE(ok(b));
    EXPECT_EQ(b->elements[1].integer, 2);
    CO_ASSERT_TRUE(b->elements.size() == 4u);
    EXPECT_EQ(b->elements[2].str, "rec1");
    EXPECT_EQ(b->elements[3].str, "rec2");
    auto nothing = co_await commit(redis, "node-b:2", 2, "");  // releases, appends nothing
    CO_ASSERT_TRUE(ok(nothing));
    auto len = co_await call(redis, "LLEN", kKeys.log("r"));
    CO_ASSERT_TRUE(len);
    EXPECT_EQ(len->integer, 2);
  });
}

asio::awaitable<core::Result<Reply>> unlock(RedisConnection& redis, std::string_view token) {
  std::vector<std::string> keys{kKeys.write_lock("r")};
  std::vector<std::string> args{std::string(token)};
  auto op = run_script(redis, unlock_script(), std::move(keys), std::move(args));
  co_return co_await std::move(op);
}

TEST(RedisScripts, ABusyNodeKeepsTheLockUntilAnotherNodeAsksForIt) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  ASSERT_TRUE(server.start());
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    auto a = co_await begin(redis, "node-a:1", 0);
    CO_ASSERT_TRUE(ok(a));
    auto kept = co_await commit_keeping(redis, "node-a:1", 0, "", "2000", "rec1");
    CO_ASSERT_TRUE(ok(kept));
    EXPECT_EQ(kept->elements[2].integer, 1);
    // A's next change needs no begin: the same token commits again.
    kept = co_await commit_keeping(redis, "node-a:1", 1, "", "2000", "rec2");
    CO_ASSERT_TRUE(ok(kept));
    EXPECT_EQ(kept->elements[2].integer, 1);
    // A begin naming the node's previous token takes the place of its own lock.
    a = co_await begin(redis, "node-a:2", 2, "2000", "node-a:1");
    CO_ASSERT_TRUE(ok(a));
    EXPECT_EQ(a->elements[1].integer, 2);
    // B asks for the lock. A's next commit lands and says so (kept 0); a commit A had already
    // sent behind it still lands under the lock, which lives a moment longer.
    auto b = co_await begin(redis, "node-b:1", 2);
    CO_ASSERT_TRUE(b && !ok(b));
    auto handed = co_await commit_keeping(redis, "node-a:2", 2, "", "2000", "rec3");
    CO_ASSERT_TRUE(ok(handed));
    EXPECT_EQ(handed->elements[2].integer, 0);
    auto behind = co_await commit_keeping(redis, "node-a:2", 3, "", "2000", "rec4");
    CO_ASSERT_TRUE(ok(behind));
    EXPECT_EQ(behind->elements[2].integer, 0);
    b = co_await begin(redis, "node-b:2", 2);
    CO_ASSERT_TRUE(b && !ok(b));
    // A lets it go, and B takes it.
    auto refused = co_await unlock(redis, "node-a:1");  // not the current token
    CO_ASSERT_TRUE(refused);
    EXPECT_EQ(refused->integer, 0);
    auto unlocked = co_await unlock(redis, "node-a:2");
    CO_ASSERT_TRUE(unlocked);
    EXPECT_EQ(unlocked->integer, 1);
    b = co_await begin(redis, "node-b:3", 2);
    CO_ASSERT_TRUE(ok(b));
    EXPECT_EQ(b->elements[1].integer, 4);
    CO_ASSERT_TRUE(b->elements.size() == 4u);
    EXPECT_EQ(b->elements[2].str, "rec3");
    EXPECT_EQ(b->elements[3].str, "rec4");
    // B's begin took its request back: its commit keeps the lock.
    auto b_kept = co_await commit_keeping(redis, "node-b:3", 4, "", "2000", "rec5");
    CO_ASSERT_TRUE(ok(b_kept));
    EXPECT_EQ(b_kept->elements[2].integer, 1);
  });
}

TEST(RedisScripts, ACommitIsRefusedWhenTheLockWasLostOrTheLogMoved) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  ASSERT_TRUE(server.start());
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    // A node paused past its lock's life: another took the lock and appended.
    auto r1 = co_await begin(redis, "slow:1", 0, "50");
    CO_ASSERT_TRUE(ok(r1));
    co_await sleep_for(100ms);
    auto r2 = co_await begin(redis, "fast:1", 0);
    CO_ASSERT_TRUE(ok(r2));
    auto r3 = co_await commit(redis, "fast:1", 0, "", "fast");
    CO_ASSERT_TRUE(ok(r3));
    auto late = co_await commit(redis, "slow:1", 0, "", "slow");
    CO_ASSERT_TRUE(late && !ok(late));
    EXPECT_EQ(late->elements[1].str, "lock lost");
    // Holding the lock with a stale length (a copy that missed a record) appends nothing either.
    auto r4 = co_await begin(redis, "stale:1", 0);
    CO_ASSERT_TRUE(ok(r4));
    auto stale = co_await commit(redis, "stale:1", 0, "", "stale");
    CO_ASSERT_TRUE(stale && !ok(stale));
    EXPECT_EQ(stale->elements[1].str, "log moved");
    auto all = co_await call(redis, "LRANGE", kKeys.log("r"), "0", "-1");
    CO_ASSERT_TRUE(all);
    CO_ASSERT_TRUE(all->elements.size() == 1u);
    EXPECT_EQ(all->elements[0].str, "fast");
    // The refused commit let the lock go.
    auto r5 = co_await begin(redis, "next:1", 1);
    EXPECT_TRUE(ok(r5));
  });
}

TEST(RedisScripts, OnlyTheLeaseHolderDrivesAndItsStepsAreFencedByTheLease) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  ASSERT_TRUE(server.start());
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    auto a = co_await lease(redis, "node-a");
    CO_ASSERT_TRUE(a);
    EXPECT_EQ(a->integer, 1);
    auto b = co_await lease(redis, "node-b");
    CO_ASSERT_TRUE(b);
    EXPECT_EQ(b->integer, 0);  // A holds it
    auto renewed = co_await lease(redis, "node-a");
    CO_ASSERT_TRUE(renewed);
    EXPECT_EQ(renewed->integer, 1);
    // B's admission step cannot be committed while A holds the lease; A's can.
    auto r6 = co_await begin(redis, "node-b:1", 0);
    CO_ASSERT_TRUE(ok(r6));
    auto fenced = co_await commit(redis, "node-b:1", 0, "node-b", "admit-by-b");
    CO_ASSERT_TRUE(fenced && !ok(fenced));
    EXPECT_EQ(fenced->elements[1].str, "not the driver");
    auto r7 = co_await begin(redis, "node-a:1", 0);
    CO_ASSERT_TRUE(ok(r7));
    auto r8 = co_await commit(redis, "node-a:1", 0, "node-a", "admit-by-a");
    EXPECT_TRUE(ok(r8));
    // A graceful stop lets it go at once.
    std::vector<std::string> keys{kKeys.driver("r")};
    std::vector<std::string> args{"node-a"};
    auto release_op = run_script(redis, release_script(), std::move(keys), std::move(args));
    auto released = co_await std::move(release_op);
    CO_ASSERT_TRUE(released);
    EXPECT_EQ(released->integer, 1);
    auto taken = co_await lease(redis, "node-b");
    CO_ASSERT_TRUE(taken);
    EXPECT_EQ(taken->integer, 1);
  });
}

TEST(RedisScripts, TakingOverALeaseThatRanOutLetsGoOfTheLastDriversStaleLockOnly) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  ASSERT_TRUE(server.start());
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    const std::string was_key = kKeys.driver_was("r");
    const std::string lock_key = kKeys.write_lock("r");
    // A drives and holds the room's lock; then A dies: its lease runs out, its lock would live on.
    auto a = co_await lease(redis, "node-a", "50");
    CO_ASSERT_TRUE(a);
    EXPECT_EQ(a->integer, 1);
    auto a_lock = co_await begin(redis, "node-a:7", 0, "1000");
    CO_ASSERT_TRUE(ok(a_lock));
    co_await sleep_for(100ms);
    auto b_waits = co_await begin(redis, "node-b:1", 0);
    CO_ASSERT_TRUE(b_waits && !ok(b_waits));
    // B takes the lease over, and A's lock (not refreshed since) goes with it: B's writes need not
    // wait for its expiry.
    auto b = co_await lease(redis, "node-b", "50");
    CO_ASSERT_TRUE(b);
    EXPECT_EQ(b->integer, 1);
    auto was = co_await call(redis, "GET", was_key);
    CO_ASSERT_TRUE(was);
    EXPECT_EQ(was->str, "node-b");
    auto b_lock = co_await begin(redis, "node-b:2", 0);
    CO_ASSERT_TRUE(ok(b_lock));
    // A, had it been only paused, is fenced out: its commit finds another token.
    auto late = co_await commit(redis, "node-a:7", 0, "node-a", "admit-by-a");
    CO_ASSERT_TRUE(late && !ok(late));
    EXPECT_EQ(late->elements[1].str, "lock lost");
    auto b_done = co_await commit_keeping(redis, "node-b:2", 0, "node-b", "300", "admit-by-b");
    CO_ASSERT_TRUE(ok(b_done));
    EXPECT_EQ(b_done->elements[2].integer, 1);  // B keeps its lock
    // B's lease runs out and B takes it back: its own lock stays, however old.
    co_await sleep_for(100ms);
    auto again = co_await lease(redis, "node-b", "50");
    CO_ASSERT_TRUE(again);
    EXPECT_EQ(again->integer, 1);
    auto b_next = co_await commit_keeping(redis, "node-b:2", 1, "node-b", "2000", "rec2");
    CO_ASSERT_TRUE(ok(b_next));
    // B's lease runs out while B still writes (its last commit refreshed its lock): C takes the
    // lease over, and B's lock and its next commit stay.
    co_await sleep_for(100ms);
    auto c = co_await lease(redis, "node-c", "50");
    CO_ASSERT_TRUE(c);
    EXPECT_EQ(c->integer, 1);
    auto b_writes = co_await commit_keeping(redis, "node-b:2", 2, "", "0", "rec3");
    CO_ASSERT_TRUE(ok(b_writes));
    // D holds the lock (it does not drive) when C's lease runs out: E's takeover leaves it alone.
    auto d_lock = co_await begin(redis, "node-d:1", 3, "1000");
    CO_ASSERT_TRUE(ok(d_lock));
    co_await sleep_for(100ms);
    auto e = co_await lease(redis, "node-e");
    CO_ASSERT_TRUE(e);
    EXPECT_EQ(e->integer, 1);
    auto lock = co_await call(redis, "GET", lock_key);
    CO_ASSERT_TRUE(lock);
    EXPECT_EQ(lock->str, "node-d:1");
    // A lease of one key (a webhook's) takes no lock and records no last holder.
    std::vector<std::string> keys{"test:webhook:w:lease"};
    std::vector<std::string> args{"node-f", "1200"};
    auto webhook_op = run_script(redis, lease_script(), std::move(keys), std::move(args));
    auto webhook = co_await std::move(webhook_op);
    CO_ASSERT_TRUE(webhook);
    EXPECT_EQ(webhook->integer, 1);
    lock = co_await call(redis, "GET", lock_key);
    CO_ASSERT_TRUE(lock);
    EXPECT_EQ(lock->str, "node-d:1");
  });
}

TEST(RedisScripts, AScriptRedisForgotIsSentWhole) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  ASSERT_TRUE(server.start());
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    auto flushed = co_await call(redis, "SCRIPT", "FLUSH");
    CO_ASSERT_TRUE(flushed);
    auto r9 = co_await begin(redis, "node-a:1", 0);
    EXPECT_TRUE(ok(r9));  // NOSCRIPT, then EVAL
    auto known = co_await call(redis, "SCRIPT", "EXISTS", begin_script().sha1);
    CO_ASSERT_TRUE(known && known->type == Reply::Type::array);
    EXPECT_EQ(known->elements[0].integer, 1);
  });
}

}  // namespace
}  // namespace waitroom::store::redis
