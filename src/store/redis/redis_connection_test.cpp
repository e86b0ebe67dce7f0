#include "store/redis/redis_connection.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "store/redis/redis_test_util.hpp"
#include "testing/redis_server.hpp"
#include "testing/run_awaitable.hpp"
#include "testing/temp_dir.hpp"
#include "testing/test_certificates.hpp"

namespace waitroom::store::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using waitroom::testing::RedisServer;
using waitroom::testing::run_awaitable;
using waitroom::testing::sleep_for;
using waitroom::testing::wait_until;
using Clock = std::chrono::steady_clock;

bool mentions(const core::Error& e, std::string_view text) {
  return e.detail.find(text) != std::string::npos;
}

void expect_unavailable(const core::Result<Reply>& r, std::string_view detail_mentions) {
  ASSERT_FALSE(r) << "got a reply";
  EXPECT_EQ(r.error().code, core::ErrorCode::unavailable) << r.error().detail;
  EXPECT_EQ(r.error().retry_after_s, 1);
  EXPECT_TRUE(mentions(r.error(), detail_mentions)) << r.error().detail;
}

TEST(RedisConnection, ReturnsEveryReplyType) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    auto set = co_await call(redis, "SET", "greeting", "hello");
    CO_ASSERT_TRUE(set);
    EXPECT_EQ(set->type, Reply::Type::status);
    EXPECT_EQ(set->str, "OK");
    EXPECT_TRUE(redis.connected());

    auto get = co_await call(redis, "GET", "greeting");
    CO_ASSERT_TRUE(get);
    EXPECT_EQ(get->type, Reply::Type::string);
    EXPECT_EQ(get->str, "hello");

    auto missing = co_await call(redis, "GET", "no-such-key");
    CO_ASSERT_TRUE(missing);
    EXPECT_EQ(missing->type, Reply::Type::nil);

    auto incr = co_await call(redis, "INCR", "counter");
    CO_ASSERT_TRUE(incr);
    EXPECT_EQ(incr->type, Reply::Type::integer);
    EXPECT_EQ(incr->integer, 1);

    // An error reply is a reply, not a failure, and the connection stays.
    auto wrong = co_await call(redis, "INCR", "greeting");
    CO_ASSERT_TRUE(wrong);
    EXPECT_TRUE(wrong->is_error());
    EXPECT_EQ(wrong->str.rfind("ERR", 0), 0u) << wrong->str;
    EXPECT_TRUE(redis.connected());

    auto nested = co_await call(redis, "EVAL", "return {1, 'two', {3, {'four'}}, false}", "0");
    CO_ASSERT_TRUE(nested);
    CO_ASSERT_TRUE(nested->type == Reply::Type::array && nested->elements.size() == 4);
    EXPECT_EQ(nested->elements[0].type, Reply::Type::integer);
    EXPECT_EQ(nested->elements[0].integer, 1);
    EXPECT_EQ(nested->elements[1].type, Reply::Type::string);
    EXPECT_EQ(nested->elements[1].str, "two");
    const Reply& inner = nested->elements[2];
    CO_ASSERT_TRUE(inner.type == Reply::Type::array && inner.elements.size() == 2);
    EXPECT_EQ(inner.elements[0].integer, 3);
    CO_ASSERT_TRUE(inner.elements[1].type == Reply::Type::array &&
                   inner.elements[1].elements.size() == 1);
    EXPECT_EQ(inner.elements[1].elements[0].str, "four");
    EXPECT_EQ(nested->elements[3].type, Reply::Type::nil);  // Lua false

    auto script_error = co_await call(redis, "EVAL", "return redis.error_reply('MINE no')", "0");
    CO_ASSERT_TRUE(script_error);
    EXPECT_TRUE(script_error->is_error());
    EXPECT_EQ(script_error->str, "MINE no");
    auto script_status = co_await call(redis, "EVAL", "return redis.status_reply('FINE')", "0");
    CO_ASSERT_TRUE(script_status);
    EXPECT_EQ(script_status->type, Reply::Type::status);
    EXPECT_EQ(script_status->str, "FINE");

    // Arguments are bulk strings: any bytes go through unchanged.
    const std::string bytes("a\0b\r\n*1\r\n$", 10);
    auto set_bytes = co_await call(redis, "SET", "bytes", bytes);
    CO_ASSERT_TRUE(set_bytes);
    auto get_bytes = co_await call(redis, "GET", "bytes");
    CO_ASSERT_TRUE(get_bytes);
    EXPECT_EQ(get_bytes->str, bytes);
    EXPECT_EQ(redis.commands_sent(), 10u);
  });
}

TEST(RedisConnection, PipelineAnswersInOrderAsAWhole) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    std::vector<std::vector<std::string>> commands = {
        {"SET", "p", "1"}, {"INCRBY", "p", "41"}, {"GET", "p"}, {"LPUSH", "p", "x"}, {"PING"}};
    auto op = redis.pipeline(std::move(commands));
    auto replies = co_await std::move(op);
    CO_ASSERT_TRUE(replies);
    CO_ASSERT_TRUE(replies->size() == 5);
    EXPECT_EQ((*replies)[0].str, "OK");
    EXPECT_EQ((*replies)[1].integer, 42);
    EXPECT_EQ((*replies)[2].str, "42");
    EXPECT_TRUE((*replies)[3].is_error());  // WRONGTYPE, and the rest still answered
    EXPECT_EQ((*replies)[4].str, "PONG");
    EXPECT_EQ(redis.commands_sent(), 5u);

    auto empty_op = redis.pipeline({});
    auto empty = co_await std::move(empty_op);
    CO_ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());

    // A command without even a name would get no reply at all and shift every later one.
    auto nameless_op = redis.command({});
    auto nameless = co_await std::move(nameless_op);
    EXPECT_FALSE(nameless);
    auto after = co_await call(redis, "GET", "p");
    CO_ASSERT_TRUE(after);
    EXPECT_EQ(after->str, "42");
  });
}

asio::awaitable<void> incr_shared(RedisConnection& redis, long long& out, int& finished) {
  auto reply = co_await call(redis, "INCR", "shared");
  out = reply && reply->type == Reply::Type::integer ? reply->integer : -1;
  ++finished;
}

asio::awaitable<void> incr_own(RedisConnection& redis, int id, int times, int& in_order,
                               int& finished) {
  const std::string key = "own:" + std::to_string(id);
  bool ok = true;
  for (int i = 1; i <= times; ++i) {
    auto reply = co_await call(redis, "INCR", key);
    ok = ok && reply && reply->integer == i;
  }
  if (ok) ++in_order;
  ++finished;
}

TEST(RedisConnection, PipelinesTenThousandConcurrentCommandsInOrder) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // What is tested is the order, not the time: a loaded machine (every suite of make test at
    // once) may take longer than the defaults to let it connect (1 s) and to answer the last of
    // 10,000 (2 s).
    RedisOptions options = local_redis(server.port());
    options.connect_timeout = 20s;
    options.command_timeout = 20s;
    RedisConnection redis(ex, options);
    // 10,000 coroutines, started in order, each one INCR of one key: the replies must come back
    // to them in the order they asked (the first asks while the connection is still opening).
    constexpr int kCoroutines = 10000;
    std::vector<long long> got(kCoroutines, 0);
    int finished = 0;
    for (int i = 0; i < kCoroutines; ++i)
      asio::co_spawn(ex, incr_shared(redis, got[i], finished), asio::detached);
    auto all_done = [&] { return finished == kCoroutines; };
    CO_ASSERT_TRUE(co_await wait_until(all_done, 20s));
    int misplaced = 0;
    for (int i = 0; i < kCoroutines; ++i) misplaced += got[i] != i + 1;
    EXPECT_EQ(misplaced, 0);

    // 100 coroutines x 100 INCRs of their own key, all in flight together: each sees 1..100.
    constexpr int kWorkers = 100;
    constexpr int kTimes = 100;
    int in_order = 0;
    int workers_finished = 0;
    for (int id = 0; id < kWorkers; ++id)
      asio::co_spawn(ex, incr_own(redis, id, kTimes, in_order, workers_finished), asio::detached);
    auto workers_done = [&] { return workers_finished == kWorkers; };
    CO_ASSERT_TRUE(co_await wait_until(workers_done, 20s));
    EXPECT_EQ(in_order, kWorkers);

    auto total = co_await call(redis, "GET", "shared");
    CO_ASSERT_TRUE(total);
    EXPECT_EQ(total->str, std::to_string(kCoroutines));
    EXPECT_EQ(redis.commands_sent(),
              static_cast<std::uint64_t>(kCoroutines + kWorkers * kTimes + 1));
  });
}

TEST(RedisConnection, LogsInWithPasswordOrAclUser) {
  SKIP_WITHOUT_REDIS_SERVER();
  waitroom::testing::RedisServerOptions logins;
  logins.args = {"--requirepass", "s3cret", "--user", "alice", "on", ">pw", "~*", "&*", "+@all"};
  RedisServer server(logins);
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions right = local_redis(server.port());
    right.url.password = "s3cret";
    RedisConnection with_password(ex, right);
    auto pong = co_await call(with_password, "PING");
    CO_ASSERT_TRUE(pong);
    EXPECT_EQ(pong->str, "PONG");
    EXPECT_EQ(with_password.commands_sent(), 2u);  // AUTH counts

    RedisOptions alice = local_redis(server.port());
    alice.url.username = "alice";
    alice.url.password = "pw";
    RedisConnection as_alice(ex, alice);
    auto whoami = co_await call(as_alice, "ACL", "WHOAMI");
    CO_ASSERT_TRUE(whoami);
    EXPECT_EQ(whoami->str, "alice");

    // A wrong password fails the connection, with Redis's own words in the detail.
    RedisOptions wrong = local_redis(server.port());
    wrong.url.password = "nope";
    RedisConnection with_wrong(ex, wrong);
    auto refused = co_await call(with_wrong, "PING");
    expect_unavailable(refused, "WRONGPASS");
    EXPECT_TRUE(mentions(refused.error(), "AUTH")) << refused.error().detail;
    EXPECT_FALSE(with_wrong.connected());

    // No password: Redis answers every command with a NOAUTH error reply, which we pass on.
    RedisConnection without(ex, local_redis(server.port()));
    auto noauth = co_await call(without, "GET", "x");
    CO_ASSERT_TRUE(noauth);
    EXPECT_TRUE(noauth->is_error());
    EXPECT_EQ(noauth->str.rfind("NOAUTH", 0), 0u) << noauth->str;
  });
}

TEST(RedisConnection, SelectsItsDatabaseOnEveryConnect) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions three = local_redis(server.port());
    three.url.db = 3;
    RedisConnection db3(ex, three);
    RedisConnection db0(ex, local_redis(server.port()));
    CO_ASSERT_TRUE(co_await call(db3, "SET", "where", "three"));
    auto in_db0 = co_await call(db0, "GET", "where");
    CO_ASSERT_TRUE(in_db0);
    EXPECT_EQ(in_db0->type, Reply::Type::nil);
    EXPECT_EQ(db3.commands_sent(), 2u);  // SELECT counts

    // Drop every other client: db3 reconnects, and selects database 3 again.
    auto killed = co_await call(db0, "CLIENT", "KILL", "TYPE", "normal");
    CO_ASSERT_TRUE(killed);
    EXPECT_EQ(killed->integer, 1);
    auto again = co_await call_until_ok(db3, 5s, "GET", "where");
    CO_ASSERT_TRUE(again);
    EXPECT_EQ(again->str, "three");
  });
}

asio::awaitable<void> blpop(RedisConnection& redis, std::vector<core::Result<Reply>>& results) {
  auto reply = co_await call(redis, "BLPOP", "nothing-will-come", "0");
  results.push_back(std::move(reply));
}

TEST(RedisConnection, FailsPendingCommandsWhenTheServerDiesAndReconnectsAfterRestart) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions options = local_redis(server.port());
    options.command_timeout = 2s;
    RedisConnection redis(ex, options);
    CO_ASSERT_TRUE(co_await call(redis, "PING"));

    // Three commands waiting inside Redis when it dies.
    std::vector<core::Result<Reply>> results;
    for (int i = 0; i < 3; ++i) asio::co_spawn(ex, blpop(redis, results), asio::detached);
    co_await sleep_for(100ms);
    const auto killed_at = Clock::now();
    server.stop();
    auto all_failed = [&] { return results.size() == 3; };
    CO_ASSERT_TRUE(co_await wait_until(all_failed, 3s));
    EXPECT_LT(Clock::now() - killed_at, options.command_timeout);
    for (const auto& r : results) expect_unavailable(r, "lost the connection");
    EXPECT_FALSE(redis.connected());

    // While it is down, commands fail at once.
    const auto asked_at = Clock::now();
    auto down = co_await call(redis, "PING");
    expect_unavailable(down, "");
    EXPECT_LT(Clock::now() - asked_at, 1s);

    // Back on the same port: the connection finds it again by itself.
    CO_ASSERT_TRUE(server.start());
    auto back = co_await call_until_ok(redis, 5s, "PING");
    CO_ASSERT_TRUE(back);
    EXPECT_EQ(back->str, "PONG");
    EXPECT_TRUE(redis.connected());
  });
}

asio::awaitable<void> get_into(RedisConnection& redis, std::vector<core::Result<Reply>>& results) {
  auto reply = co_await call(redis, "GET", "k");
  results.push_back(std::move(reply));
}

TEST(RedisConnection, TimesOutWhenTheServerStopsAnsweringThenRecovers) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions options = local_redis(server.port());
    options.command_timeout = 300ms;
    RedisConnection redis(ex, options);
    // A loaded machine (make test runs suites side by side) may take longer than 300 ms for the
    // first connect: that is not what this test is about.
    auto first = co_await call_until_ok(redis, 5s, "PING");
    CO_ASSERT_TRUE(first);

    server.freeze();
    std::vector<core::Result<Reply>> results;
    const auto asked_at = Clock::now();
    for (int i = 0; i < 3; ++i) asio::co_spawn(ex, get_into(redis, results), asio::detached);
    auto all_failed = [&] { return results.size() == 3; };
    CO_ASSERT_TRUE(co_await wait_until(all_failed, 3s));
    const auto waited = Clock::now() - asked_at;
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 1500ms);
    for (const auto& r : results) expect_unavailable(r, "within 300 ms");
    EXPECT_FALSE(redis.connected());

    server.thaw();
    auto back = co_await call_until_ok(redis, 5s, "PING");
    CO_ASSERT_TRUE(back);
    EXPECT_EQ(back->str, "PONG");
  });
}

TEST(RedisConnection, NothingListeningFailsFastAndBacksOff) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  const std::uint16_t port = server.port();
  server.stop();
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(port));
    const auto asked_at = Clock::now();
    auto refused = co_await call(redis, "PING");
    expect_unavailable(refused, "cannot connect");
    auto again = co_await call(redis, "PING");  // inside the back-off: not even tried
    expect_unavailable(again, "next attempt to connect in");
    EXPECT_LT(Clock::now() - asked_at, 1s);
    EXPECT_EQ(redis.commands_sent(), 0u);
  });
}

TEST(RedisConnection, CloseFailsPendingAndLaterCommands) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, local_redis(server.port()));
    CO_ASSERT_TRUE(co_await call(redis, "PING"));
    std::vector<core::Result<Reply>> results;
    asio::co_spawn(ex, blpop(redis, results), asio::detached);
    co_await sleep_for(50ms);
    redis.close();
    auto failed = [&] { return results.size() == 1; };
    CO_ASSERT_TRUE(co_await wait_until(failed, 1s));
    expect_unavailable(results[0], "closed");
    auto later = co_await call(redis, "PING");
    expect_unavailable(later, "closed");
  });
}

// rediss://: a server certificate for "localhost" (self-signed, so it is its own CA).
struct TlsRedis {
  TlsRedis()
      : cert(waitroom::testing::make_test_certificate("localhost", 1)),
        other(waitroom::testing::make_test_certificate("localhost", 2)),
        server(write_files()) {}
  waitroom::testing::RedisServerOptions write_files() {
    waitroom::testing::write_file(dir.path() / "cert.pem", cert.cert_pem);
    waitroom::testing::write_file(dir.path() / "key.pem", cert.key_pem);
    waitroom::testing::write_file(dir.path() / "other-ca.pem", other.cert_pem);
    waitroom::testing::RedisServerOptions options;
    options.tls_cert_file = (dir.path() / "cert.pem").string();
    options.tls_key_file = (dir.path() / "key.pem").string();
    return options;
  }
  RedisOptions options(std::string host, std::string ca_file) const {
    RedisOptions o;
    o.url.host = std::move(host);
    o.url.port = server.tls_port();
    o.url.tls = true;
    o.tls_ca_file = std::move(ca_file);
    return o;
  }
  std::string ca() const { return (dir.path() / "cert.pem").string(); }
  std::string other_ca() const { return (dir.path() / "other-ca.pem").string(); }

  waitroom::testing::TempDir dir;
  waitroom::testing::TestCertificate cert;
  waitroom::testing::TestCertificate other;
  RedisServer server;
};

TEST(RedisConnection, TlsVerifiesTheServerAgainstTheCaFile) {
  SKIP_WITHOUT_REDIS_SERVER();
  TlsRedis tls;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection redis(ex, tls.options("localhost", tls.ca()));
    auto set = co_await call(redis, "SET", "over", "tls");
    CO_ASSERT_TRUE(set);
    auto get = co_await call(redis, "GET", "over");
    CO_ASSERT_TRUE(get);
    EXPECT_EQ(get->str, "tls");
    EXPECT_TRUE(redis.connected());
  });
}

TEST(RedisConnection, TlsRefusesAServerItCannotVerify) {
  SKIP_WITHOUT_REDIS_SERVER();
  TlsRedis tls;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisConnection wrong_ca(ex, tls.options("localhost", tls.other_ca()));
    auto refused = co_await call(wrong_ca, "PING");
    expect_unavailable(refused, "TLS handshake");
    EXPECT_TRUE(mentions(refused.error(), "certificate")) << refused.error().detail;

    // The right CA, but the certificate is for "localhost", not for the address 127.0.0.1.
    RedisConnection wrong_host(ex, tls.options("127.0.0.1", tls.ca()));
    auto mismatch = co_await call(wrong_host, "PING");
    expect_unavailable(mismatch, "TLS handshake");

    RedisConnection no_ca(ex, tls.options("localhost", (tls.dir.path() / "missing.pem").string()));
    auto unreadable = co_await call(no_ca, "PING");
    expect_unavailable(unreadable, "CA certificates");

    // Plain RESP to the TLS port is not an answer either.
    RedisOptions plain = tls.options("localhost", "");
    plain.url.tls = false;
    plain.command_timeout = 300ms;
    RedisConnection not_tls(ex, plain);
    auto garbled = co_await call(not_tls, "PING");
    EXPECT_FALSE(garbled);
  });
}

TEST(RedisConnection, TlsHandshakeThatHangsFailsWithinTheConnectTimeout) {
  SKIP_WITHOUT_REDIS_SERVER();
  TlsRedis tls;
  tls.server.freeze();
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions options = tls.options("localhost", tls.ca());
    options.connect_timeout = 300ms;
    RedisConnection redis(ex, options);
    const auto asked_at = Clock::now();
    auto hung = co_await call(redis, "PING");
    expect_unavailable(hung, "within 300 ms");
    EXPECT_LT(Clock::now() - asked_at, 1500ms);
  });
  tls.server.thaw();
}

}  // namespace
}  // namespace waitroom::store::redis
