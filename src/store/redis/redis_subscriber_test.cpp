#include "store/redis/redis_subscriber.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "store/redis/redis_connection.hpp"
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

// What a subscriber saw, in order.
struct Seen {
  std::vector<std::pair<std::string, std::string>> messages;
  int connected = 0;
  RedisSubscriber::OnMessage on_message() {
    return [this](std::string_view channel, std::string_view message) {
      messages.emplace_back(channel, message);
    };
  }
  RedisSubscriber::OnConnected on_connected() {
    return [this] { ++connected; };
  }
};

TEST(RedisSubscriber, ReceivesWhatIsPublishedOnItsChannels) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Seen seen;
    RedisSubscriber subscriber(ex, local_redis(server.port()), {"room:a", "room:b"},
                               seen.on_message(), seen.on_connected());
    subscriber.start();
    auto subscribed = [&] { return seen.connected == 1 && subscriber.connected(); };
    CO_ASSERT_TRUE(co_await wait_until(subscribed, 5s));

    RedisConnection publisher(ex, local_redis(server.port()));
    auto to_a = co_await call(publisher, "PUBLISH", "room:a", "41");
    CO_ASSERT_TRUE(to_a);
    EXPECT_EQ(to_a->integer, 1);  // one subscriber heard it
    const std::string bytes("x\0y\r\n", 5);
    CO_ASSERT_TRUE(co_await call(publisher, "PUBLISH", "room:b", bytes));
    auto to_c = co_await call(publisher, "PUBLISH", "room:c", "not for us");
    CO_ASSERT_TRUE(to_c);
    EXPECT_EQ(to_c->integer, 0);
    CO_ASSERT_TRUE(co_await call(publisher, "PUBLISH", "room:a", "42"));

    auto three = [&] { return seen.messages.size() >= 3; };
    CO_ASSERT_TRUE(co_await wait_until(three, 5s));
    co_await sleep_for(50ms);  // nothing else arrives
    CO_ASSERT_TRUE(seen.messages.size() == 3);
    EXPECT_EQ(seen.messages[0], std::make_pair(std::string("room:a"), std::string("41")));
    EXPECT_EQ(seen.messages[1], std::make_pair(std::string("room:b"), bytes));
    EXPECT_EQ(seen.messages[2], std::make_pair(std::string("room:a"), std::string("42")));

    // After stop() nothing more is delivered.
    subscriber.stop();
    EXPECT_FALSE(subscriber.connected());
    CO_ASSERT_TRUE(co_await call(publisher, "PUBLISH", "room:a", "43"));
    co_await sleep_for(50ms);
    EXPECT_EQ(seen.messages.size(), 3u);
  });
}

TEST(RedisSubscriber, ResubscribesAfterTheServerRestarts) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Seen seen;
    RedisSubscriber subscriber(ex, local_redis(server.port()), {"serving"}, seen.on_message(),
                               seen.on_connected());
    subscriber.start();
    auto first = [&] { return seen.connected == 1; };
    CO_ASSERT_TRUE(co_await wait_until(first, 5s));

    server.stop();
    auto lost = [&] { return !subscriber.connected(); };
    CO_ASSERT_TRUE(co_await wait_until(lost, 2s));
    co_await sleep_for(300ms);  // a few failed attempts while it is down
    EXPECT_EQ(seen.connected, 1);
    CO_ASSERT_TRUE(server.start());

    // on_connected again: the store's cue to re-read what it may have missed.
    auto second = [&] { return seen.connected == 2 && subscriber.connected(); };
    CO_ASSERT_TRUE(co_await wait_until(second, 5s));
    RedisConnection publisher(ex, local_redis(server.port()));
    auto published = co_await call(publisher, "PUBLISH", "serving", "7");
    CO_ASSERT_TRUE(published);
    EXPECT_EQ(published->integer, 1);
    auto heard = [&] { return seen.messages.size() == 1; };
    CO_ASSERT_TRUE(co_await wait_until(heard, 5s));
    EXPECT_EQ(seen.messages[0].second, "7");
  });
}

TEST(RedisSubscriber, NoticesAServerThatStopsAnsweringByItsPings) {
  SKIP_WITHOUT_REDIS_SERVER();
  RedisServer server;
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions options = local_redis(server.port());
    options.command_timeout = 100ms;  // a PING every 200 ms
    Seen seen;
    RedisSubscriber subscriber(ex, options, {"serving"}, seen.on_message(), seen.on_connected());
    subscriber.start();
    auto first = [&] { return seen.connected == 1; };
    CO_ASSERT_TRUE(co_await wait_until(first, 5s));

    // The socket stays open, but nothing answers: only the unanswered PING tells.
    server.freeze();
    auto lost = [&] { return !subscriber.connected(); };
    CO_ASSERT_TRUE(co_await wait_until(lost, 2s));
    server.thaw();
    auto second = [&] { return seen.connected == 2 && subscriber.connected(); };
    CO_ASSERT_TRUE(co_await wait_until(second, 5s));
  });
}

TEST(RedisSubscriber, LogsInFirstAndNeverSubscribesWithAWrongPassword) {
  SKIP_WITHOUT_REDIS_SERVER();
  waitroom::testing::RedisServerOptions with_password;
  with_password.args = {"--requirepass", "s3cret"};
  RedisServer server(with_password);
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions right = local_redis(server.port());
    right.url.password = "s3cret";
    right.url.db = 2;  // channels are not per database: no SELECT needed or sent
    Seen seen;
    RedisSubscriber subscriber(ex, right, {"c"}, seen.on_message(), seen.on_connected());
    subscriber.start();

    RedisOptions wrong = right;
    wrong.url.password = "nope";
    Seen refused;
    RedisSubscriber wrong_subscriber(ex, wrong, {"c"}, refused.on_message(),
                                     refused.on_connected());
    wrong_subscriber.start();

    auto subscribed = [&] { return seen.connected == 1; };
    CO_ASSERT_TRUE(co_await wait_until(subscribed, 5s));
    RedisConnection publisher(ex, right);
    auto published = co_await call(publisher, "PUBLISH", "c", "hi");
    CO_ASSERT_TRUE(published);
    EXPECT_EQ(published->integer, 1);
    auto heard = [&] { return seen.messages.size() == 1; };
    CO_ASSERT_TRUE(co_await wait_until(heard, 5s));
    co_await sleep_for(300ms);
    EXPECT_EQ(refused.connected, 0);
    EXPECT_FALSE(wrong_subscriber.connected());
  });
}

TEST(RedisSubscriber, SubscribesOverTls) {
  SKIP_WITHOUT_REDIS_SERVER();
  waitroom::testing::TempDir dir;
  const auto cert = waitroom::testing::make_test_certificate("localhost", 1);
  waitroom::testing::write_file(dir.path() / "cert.pem", cert.cert_pem);
  waitroom::testing::write_file(dir.path() / "key.pem", cert.key_pem);
  waitroom::testing::RedisServerOptions with_tls;
  with_tls.tls_cert_file = (dir.path() / "cert.pem").string();
  with_tls.tls_key_file = (dir.path() / "key.pem").string();
  RedisServer server(with_tls);
  run_awaitable([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    RedisOptions options;
    options.url.host = "localhost";
    options.url.port = server.tls_port();
    options.url.tls = true;
    options.tls_ca_file = (dir.path() / "cert.pem").string();
    Seen seen;
    RedisSubscriber subscriber(ex, options, {"t"}, seen.on_message(), seen.on_connected());
    subscriber.start();
    auto subscribed = [&] { return seen.connected == 1; };
    CO_ASSERT_TRUE(co_await wait_until(subscribed, 5s));
    RedisConnection publisher(ex, local_redis(server.port()));  // plain port, same server
    CO_ASSERT_TRUE(co_await call(publisher, "PUBLISH", "t", "secure"));
    auto heard = [&] { return seen.messages.size() == 1; };
    CO_ASSERT_TRUE(co_await wait_until(heard, 5s));
    EXPECT_EQ(seen.messages[0].second, "secure");
  });
}

}  // namespace
}  // namespace waitroom::store::redis
