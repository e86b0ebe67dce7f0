#include "ops/webhook_sink.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "net/http_url.hpp"
#include "ops/audit_event.hpp"
#include "testing/temp_dir.hpp"
#include "testing/test_certificates.hpp"
#include "testing/test_http_server.hpp"

namespace waitroom::ops {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr char kSecret[] = "whsec_test";

// ---------------------------------------------------------------------------------------------
// A webhook receiver on 127.0.0.1 with its own thread: records what it accepts and can be told
// to fail, stay silent, or close idle connections, the ways real receivers misbehave.

struct Received {
  unsigned status = 0;  // what the receiver answered (0: nothing)
  std::string target, timestamp, signature, content_type, user_agent, authorization, body;
};

class Receiver {
 public:
  // `port` 0 picks a free one; `tls` makes this an https receiver.
  explicit Receiver(std::uint16_t port = 0,
                    std::optional<waitroom::testing::TestHttpServer::Tls> tls = std::nullopt)
      : server_([this](const waitroom::testing::TestRequest& req) { return on_request(req); }, port,
                std::move(tls)) {}

  std::uint16_t port() const { return server_.port(); }
  void fail_next(int n, unsigned status) {
    std::lock_guard lock(mutex_);
    fail_left_ = n;
    fail_status_ = status;
  }
  void ignore_next(int n) {
    std::lock_guard lock(mutex_);
    ignore_left_ = n;
  }
  // Closes each connection right after answering, without saying so: the next request a client
  // sends on it meets a closed socket.
  void close_after_answer() { close_after_answer_ = true; }
  // Sends "103 Early Hints" before each answer: an interim response clients must skip.
  void send_early_hints() { early_hints_ = true; }

  std::vector<Received> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<Received> accepted() const {
    std::vector<Received> out;
    for (auto& r : requests())
      if (r.status / 100 == 2) out.push_back(r);
    return out;
  }
  int connections() const { return server_.connections(); }

 private:
  // The answer, or nothing to stay silent.
  std::optional<waitroom::testing::TestAnswer> on_request(
      const waitroom::testing::TestRequest& req) {
    std::lock_guard lock(mutex_);
    Received r{0,
               req.target,
               req.header("X-Waitroom-Timestamp"),
               req.header("X-Waitroom-Signature"),
               req.header("Content-Type"),
               req.header("User-Agent"),
               req.header("Authorization"),
               req.body};
    if (ignore_left_ > 0)
      --ignore_left_;
    else if (fail_left_ > 0)
      r.status = (--fail_left_, fail_status_);
    else
      r.status = 200;
    requests_.push_back(r);
    if (r.status == 0) return std::nullopt;
    return waitroom::testing::TestAnswer{.status = r.status,
                                         .body = "ok",
                                         .content_type = "",
                                         .keep_alive = true,
                                         .early_hints = early_hints_,
                                         .close_after = close_after_answer_};
  }

  mutable std::mutex mutex_;
  std::vector<Received> requests_;
  int fail_left_ = 0;
  unsigned fail_status_ = 0;
  int ignore_left_ = 0;
  std::atomic<bool> close_after_answer_{false};
  std::atomic<bool> early_hints_{false};
  waitroom::testing::TestHttpServer server_;  // last: its thread stops before the rest goes
};

// ---------------------------------------------------------------------------------------------

// A port nothing listens on: connections to it are refused.
std::uint16_t free_port() { return waitroom::testing::refused_port(); }

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 2s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

WebhookConfig config_for(std::string url) {
  WebhookConfig config;
  config.url = std::move(url);
  config.secret = kSecret;
  config.timeout_ms = 1000;
  config.retry_min_ms = 5;
  config.retry_max_ms = 20;
  return config;
}

// Positions kept in memory, as the data dir's files or Redis would keep them.
class MemoryCursors final : public FeedCursors {
 public:
  core::Result<std::optional<FeedPositions>> load(const std::string& reader) override {
    std::lock_guard lock(mu_);
    auto it = saved_.find(reader);
    if (it == saved_.end()) return std::nullopt;
    return it->second;
  }
  core::Result<void> save(const std::string& reader, const FeedPositions& positions) override {
    std::lock_guard lock(mu_);
    saved_[reader] = positions;
    return {};
  }
  bool lead(const std::string&) override { return leads.load(); }
  FeedPositions saved(const std::string& reader) {
    std::lock_guard lock(mu_);
    return saved_[reader];
  }
  void put(const std::string& reader, FeedPositions positions) {
    std::lock_guard lock(mu_);
    saved_[reader] = std::move(positions);
  }
  std::atomic<bool> leads{true};

 private:
  std::mutex mu_;
  std::map<std::string, FeedPositions> saved_;
};

// What a store does: numbers each room's events and adds them to the feed once committed.
class Events {
 public:
  explicit Events(std::uint64_t max_room_bytes = 1 << 30) : feed(max_room_bytes) {}
  void publish(const Event& e) {
    feed.add(e.room, ++next_[e.room],
             {StoredEvent{e.id, e.type, e.time_ms, boost::json::serialize(e.data)}});
  }
  EventFeed feed;
  MemoryCursors cursors;

 private:
  std::map<std::string, std::uint64_t> next_;
};

// A sink that delivers from the start of every room (as if it had saved positions before).
std::unique_ptr<WebhookSink> make_sink(Events& events, WebhookConfig config) {
  events.cursors.put(webhook_reader_key(net::parse_http_url(config.url)->display, 0), {});
  auto sink = WebhookSink::create(std::move(config), events.feed, events.cursors);
  EXPECT_TRUE(sink) << sink.error().detail;
  return sink ? std::move(*sink) : nullptr;
}

Event numbered(std::int64_t seq, std::string type = "ticket.admitted") {
  return Event{new_event_id(),          std::move(type), "room" + std::to_string(seq % 3),
               1'700'000'000'000 + seq, {{"seq", seq}},  0};
}

std::vector<std::int64_t> seqs_of(const Received& r) {
  std::vector<std::int64_t> out;
  const boost::json::value body = boost::json::parse(r.body);
  for (const auto& e : body.at("events").as_array())
    out.push_back(e.at("data").at("seq").as_int64());
  return out;
}

// Every event 0..n-1 once, each room's in order (event i is room i % 3's); a batch may only
// repeat as a whole, right after itself.
void expect_in_order(const std::vector<Received>& accepted, std::int64_t n) {
  std::map<std::int64_t, std::int64_t> next_of_room;  // room -> its next event
  std::vector<std::int64_t> previous;
  std::int64_t seen = 0;
  for (const Received& r : accepted) {
    const auto batch = seqs_of(r);
    ASSERT_FALSE(batch.empty());
    if (batch == previous) continue;  // sent again: its 2xx was lost
    for (const auto seq : batch) {
      auto [it, added] = next_of_room.try_emplace(seq % 3, seq % 3);
      ASSERT_EQ(seq, it->second) << "room " << seq % 3;
      it->second += 3;
      ++seen;
    }
    previous = batch;
  }
  EXPECT_EQ(seen, n);
}

std::string url_of(const Receiver& r, std::string_view path = "/hook") {
  return "http://127.0.0.1:" + std::to_string(r.port()) + std::string(path);
}

// ---------------------------------------------------------------------------------------------

TEST(WebhookSink, CreateRefusesBadConfigNamingTheField) {
  Events events;
  auto error_of = [&events](WebhookConfig c) {
    auto sink = WebhookSink::create(std::move(c), events.feed, events.cursors);
    return sink ? std::string("(created)") : sink.error().detail;
  };
  WebhookConfig c = config_for("ftp://example.com/");
  EXPECT_EQ(error_of(c), "webhook url: must start with http:// or https://");
  c = config_for("http://example.com/");
  c.secret.clear();
  EXPECT_EQ(error_of(c), "webhook secret: is required");
  c = config_for("http://example.com/");
  c.max_batch = 0;
  EXPECT_EQ(error_of(c), "webhook max_batch: must be at least 1");
  c = config_for("http://example.com/");
  c.retry_max_ms = 1;
  EXPECT_EQ(error_of(c), "webhook retry_max_ms: must be between retry_min_ms and 3600000");
  c = config_for("https://example.com/");
  c.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(error_of(c).rfind("webhook ca_file: cannot load /nonexistent/ca.pem: ", 0), 0u)
      << error_of(c);
}

TEST(WebhookSink, SignatureIsHmacSha256OfTimestampDotBody) {
  // python3: hmac.new(b"whsec_test", b'1700000000.{"events":[]}', hashlib.sha256).hexdigest()
  EXPECT_EQ(webhook_signature(kSecret, "1700000000", R"({"events":[]})"),
            "sha256=4f6f9b7a41398ad124e52a1320534f978e522923f3f2b2724e31d7a9dbf78a7f");
}

TEST(WebhookSink, DeliversSignedBatchesInOrderOverOneConnection) {
  Events events;
  Receiver receiver;
  auto config = config_for(url_of(receiver, "/hook?x=1"));
  config.max_batch = 10;
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  constexpr int kEvents = 95;
  for (int i = 0; i < kEvents; ++i) events.publish(numbered(i));
  ASSERT_TRUE(sink->wait_idle(2s));

  const auto accepted = receiver.accepted();
  ASSERT_GE(accepted.size(), 10u);
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  for (const Received& r : accepted) {
    EXPECT_EQ(r.target, "/hook?x=1");
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.user_agent, "waitroom");
    EXPECT_EQ(r.authorization, "");
    EXPECT_LE(std::abs(std::stoll(r.timestamp) - now_s), 5);
    EXPECT_EQ(r.signature, webhook_signature(kSecret, r.timestamp, r.body));
    EXPECT_LE(seqs_of(r).size(), 10u);
  }
  expect_in_order(accepted, kEvents);
  const auto first = boost::json::parse(accepted[0].body).at("events").at(0).as_object();
  const std::int64_t seq = first.at("data").at("seq").as_int64();
  EXPECT_EQ(first.at("type"), "ticket.admitted");
  EXPECT_EQ(first.at("room").as_string(), "room" + std::to_string(seq % 3));
  EXPECT_EQ(first.at("seq").as_int64(), seq / 3 + 1);  // the room's first, second, ... event
  EXPECT_EQ(first.at("time_ms").as_int64(), 1'700'000'000'000 + seq);
  EXPECT_EQ(first.at("id").as_string().size(), 36u);

  EXPECT_EQ(receiver.connections(), 1);  // kept alive between batches
  const WebhookStats stats = sink->stats();
  EXPECT_EQ(stats.delivered, static_cast<std::uint64_t>(kEvents));
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.queue_depth, 0u);
}

TEST(WebhookSink, RetriesTheSameBatchThroughErrorAnswers) {
  Events events;
  Receiver receiver;
  receiver.fail_next(3, 503);
  auto sink = make_sink(events, config_for(url_of(receiver)));
  ASSERT_TRUE(sink);
  for (int i = 0; i < 30; ++i) events.publish(numbered(i));
  ASSERT_TRUE(sink->wait_idle(2s));
  receiver.fail_next(2, 400);  // a 4xx is retried too: the receiver may be fixed
  for (int i = 30; i < 60; ++i) events.publish(numbered(i));
  ASSERT_TRUE(sink->wait_idle(2s));

  const auto all = receiver.requests();
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    if (all[i].status / 100 != 2) {
      EXPECT_EQ(all[i + 1].body, all[i].body) << "request " << i;
    }
  }
  expect_in_order(receiver.accepted(), 60);
  EXPECT_EQ(sink->stats().failures, 5u);
  EXPECT_EQ(sink->stats().delivered, 60u);
}

TEST(WebhookSink, DeliversEverythingInOrderOnceTheReceiverComesBack) {
  Events events;
  const std::uint16_t port = free_port();
  auto sink = make_sink(events, config_for("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_TRUE(sink);
  for (int i = 0; i < 40; ++i) events.publish(numbered(i));
  ASSERT_TRUE(wait_until([&] { return sink->stats().failures >= 3; }));
  EXPECT_EQ(sink->stats().queue_depth, 40u);

  Receiver receiver(port);
  for (int i = 40; i < 80; ++i) events.publish(numbered(i));
  ASSERT_TRUE(sink->wait_idle(2s));
  expect_in_order(receiver.accepted(), 80);
  EXPECT_EQ(sink->stats().delivered, 80u);
  EXPECT_EQ(sink->stats().queue_depth, 0u);
}

TEST(WebhookSink, TimesOutASilentReceiverAndReconnects) {
  Events events;
  Receiver receiver;
  receiver.ignore_next(1);
  auto config = config_for(url_of(receiver));
  config.timeout_ms = 150;
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  for (int i = 0; i < 5; ++i) events.publish(numbered(i));
  ASSERT_TRUE(sink->wait_idle(2s));
  expect_in_order(receiver.accepted(), 5);
  EXPECT_EQ(sink->stats().failures, 1u);
  EXPECT_EQ(receiver.connections(), 2);
}

TEST(WebhookSink, ReplacesAKeptAliveConnectionTheReceiverClosedWithoutCountingAFailure) {
  Events events;
  Receiver receiver;
  receiver.close_after_answer();
  auto sink = make_sink(events, config_for(url_of(receiver)));
  ASSERT_TRUE(sink);
  for (int i = 0; i < 4; ++i) {
    events.publish(numbered(i));
    ASSERT_TRUE(sink->wait_idle(2s));
    std::this_thread::sleep_for(5ms);  // let the receiver's close arrive
  }
  expect_in_order(receiver.accepted(), 4);
  EXPECT_EQ(sink->stats().failures, 0u);
  EXPECT_EQ(receiver.connections(), 4);
}

TEST(WebhookSink, SkipsInterimResponses) {
  Events events;
  Receiver receiver;
  receiver.send_early_hints();
  auto sink = make_sink(events, config_for(url_of(receiver)));
  ASSERT_TRUE(sink);
  for (int i = 0; i < 3; ++i) {
    events.publish(numbered(i));
    ASSERT_TRUE(sink->wait_idle(2s));
  }
  expect_in_order(receiver.accepted(), 3);
  EXPECT_EQ(sink->stats().failures, 0u);
  EXPECT_EQ(receiver.connections(), 1);
}

TEST(WebhookSink, DeliversOnlyTheConfiguredTypes) {
  Events events;
  Receiver receiver;
  auto config = config_for(url_of(receiver));
  config.types = {"room.reset", "room.paused"};
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  events.publish(numbered(0, "ticket.admitted"));
  events.publish(numbered(0, "room.reset"));
  events.publish(numbered(1, "ticket.admitted"));
  events.publish(numbered(1, "room.paused"));
  ASSERT_TRUE(sink->wait_idle(2s));
  expect_in_order(receiver.accepted(), 2);
  EXPECT_EQ(sink->stats().delivered, 2u);
}

TEST(WebhookSink, SendsUrlUserinfoAsBasicAuth) {
  Events events;
  Receiver receiver;
  auto sink = make_sink(
      events, config_for("http://user:pa%40ss@127.0.0.1:" + std::to_string(receiver.port()) + "/"));
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  ASSERT_TRUE(sink->wait_idle(2s));
  ASSERT_EQ(receiver.accepted().size(), 1u);
  EXPECT_EQ(receiver.accepted()[0].authorization, "Basic dXNlcjpwYUBzcw==");  // user:pa@ss
}

TEST(WebhookSink, CountsWhatTheFeedLetGoBeforeItWasDelivered) {
  const std::uint64_t event_bytes =
      StoredEvent{new_event_id(), "ticket.admitted", 0, R"({"seq":10})"}.bytes();
  Events events(10 * event_bytes);  // a room keeps 10 such events
  for (int i = 0; i < 25; ++i) {
    Event e = numbered(i + 10);  // two-digit data, so each takes event_bytes
    e.room = "r";
    events.publish(e);
  }
  Receiver receiver;
  auto config = config_for(url_of(receiver));
  config.max_batch = 4;
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->wait_idle(2s));
  std::vector<std::int64_t> got;
  for (const Received& r : receiver.accepted())
    for (auto seq : seqs_of(r)) got.push_back(seq);
  std::vector<std::int64_t> last_ten;
  for (int i = 15; i < 25; ++i) last_ten.push_back(i + 10);
  EXPECT_EQ(got, last_ten);
  EXPECT_EQ(sink->stats().dropped, 15u);
  EXPECT_EQ(sink->stats().delivered, 10u);
}

TEST(WebhookSink, ContinuesAfterARestartFromItsSavedPlace) {
  Receiver receiver;
  MemoryCursors cursors;  // outlives both "processes"
  const std::string key = webhook_reader_key(url_of(receiver), 0);
  {
    Events before;
    auto sink = WebhookSink::create(config_for(url_of(receiver)), before.feed, cursors);
    ASSERT_TRUE(sink);
    ASSERT_TRUE(wait_until([&] { return cursors.load(key).value().has_value(); }));
    for (int i = 0; i < 9; ++i) before.publish(numbered(i));
    ASSERT_TRUE((*sink)->wait_idle(2s));
    (*sink)->stop();
  }
  // A sink never seen before started at the newest events: 0..8 came after it, all delivered.
  expect_in_order(receiver.accepted(), 9);
  EXPECT_EQ(cursors.saved(key), (FeedPositions{{"room0", 3}, {"room1", 3}, {"room2", 3}}));

  // The restarted store has the same events in its log, and more.
  Events after;
  for (int i = 0; i < 15; ++i) after.publish(numbered(i));
  auto sink = WebhookSink::create(config_for(url_of(receiver)), after.feed, cursors);
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->wait_idle(2s));
  expect_in_order(receiver.accepted(), 15);  // 9..14 only: nothing twice
  EXPECT_EQ((*sink)->stats().delivered, 6u);
}

TEST(WebhookSink, ANewSinkStartsAtTheNewestEvents) {
  Events events;
  for (int i = 0; i < 6; ++i) events.publish(numbered(i));
  Receiver receiver;
  auto sink = WebhookSink::create(config_for(url_of(receiver)), events.feed, events.cursors);
  ASSERT_TRUE(sink);
  // Its place is saved at once, so that a crash does not make it start afresh again.
  ASSERT_TRUE(wait_until([&] {
    return events.cursors.load(webhook_reader_key(url_of(receiver), 0)).value().has_value();
  }));
  for (int i = 6; i < 9; ++i) events.publish(numbered(i));
  ASSERT_TRUE((*sink)->wait_idle(2s));
  std::vector<std::int64_t> got;
  for (const Received& r : receiver.accepted())
    for (auto seq : seqs_of(r)) got.push_back(seq);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::int64_t>{6, 7, 8}));
}

TEST(WebhookSink, WhileAnotherProcessDeliversItFollowsTheSavedPlace) {
  Events events;
  Receiver receiver;
  events.cursors.leads = false;
  auto sink = make_sink(events, config_for(url_of(receiver)));
  ASSERT_TRUE(sink);
  for (int i = 0; i < 6; ++i) events.publish(numbered(i));
  EXPECT_EQ(sink->stats().queue_depth, 6u);
  // The delivering process saved its place past everything: this copy lets the events go.
  events.cursors.put(sink->reader_key(), {{"room0", 2}, {"room1", 2}, {"room2", 2}});
  ASSERT_TRUE(wait_until([&] { return sink->stats().queue_depth == 0; }, 3s));
  std::uint64_t first = 0;
  EXPECT_TRUE(events.feed.kept("room0", first).empty());
  EXPECT_TRUE(receiver.requests().empty());
}

TEST(WebhookSink, StopsRetryingOnceAnotherProcessLeads) {
  Events events;
  Receiver receiver;
  receiver.fail_next(1000, 503);
  auto sink = make_sink(events, config_for(url_of(receiver)));
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  ASSERT_TRUE(wait_until([&] { return receiver.requests().size() >= 2; }));
  events.cursors.leads = false;  // the lease ran out during the outage: another node delivers
  ASSERT_TRUE(wait_until([&] {
    const auto n = receiver.requests().size();
    std::this_thread::sleep_for(100ms);  // retries come every 5-20 ms while it still sends
    return receiver.requests().size() == n;
  }));
  EXPECT_EQ(sink->stats().delivered, 0u);
  EXPECT_EQ(sink->stats().queue_depth, 1u);  // not acknowledged: the leader sends it
}

TEST(WebhookSink, StopIsPromptWhileBackingOff) {
  Events events;
  auto config = config_for("http://127.0.0.1:" + std::to_string(free_port()) + "/");
  config.retry_min_ms = 5000;
  config.retry_max_ms = 5000;
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  ASSERT_TRUE(wait_until([&] { return sink->stats().failures >= 1; }));
  const auto start = std::chrono::steady_clock::now();
  sink.reset();  // the destructor stops
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(WebhookSink, StopIsPromptWhileWaitingForAResponse) {
  Events events;
  Receiver receiver;
  receiver.ignore_next(100);
  auto config = config_for(url_of(receiver));
  config.timeout_ms = 10000;
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  ASSERT_TRUE(wait_until([&] { return receiver.requests().size() >= 1; }));
  const auto start = std::chrono::steady_clock::now();
  sink->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(sink->stats().failures, 0u);  // cut short by stop(), not failed by the receiver
  EXPECT_EQ(sink->stats().queue_depth, 1u);
}

// A listener whose accept queue is full: Linux drops further SYNs, so connecting hangs.
class BlackHole {
 public:
  BlackHole() : acceptor_(ioc_) {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen(0);
    for (int i = 0; i < 4; ++i) {
      fillers_.emplace_back(ioc_);
      fillers_.back().async_connect(acceptor_.local_endpoint(), [](boost::system::error_code) {});
    }
    ioc_.run_for(50ms);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> fillers_;
};

TEST(WebhookSink, ConnectTimesOutAndStopIsPromptWhileConnecting) {
  Events events;
  BlackHole hole;
  auto config = config_for("http://127.0.0.1:" + std::to_string(hole.port()) + "/");
  config.timeout_ms = 100;
  config.retry_min_ms = 1;
  config.retry_max_ms = 1;
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  // A connect that hangs ends at timeout_ms and counts as a failure...
  ASSERT_TRUE(wait_until([&] { return sink->stats().failures >= 2; }));
  // ...and stop() does not wait for the one in progress.
  std::this_thread::sleep_for(20ms);
  const auto start = std::chrono::steady_clock::now();
  sink->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(sink->stats().delivered, 0u);
}

TEST(WebhookSink, MetricsHideCredentialsAndGroupFamilies) {
  Events events;
  auto a = make_sink(events, config_for("http://user:pw@127.0.0.1:1/hook?token=abc"));
  auto b = make_sink(events, config_for("https://127.0.0.1:2/b"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->display_url(), "http://127.0.0.1:1/hook");

  std::string one;
  a->write_metrics(one);
  EXPECT_EQ(one,
            "waitroom_webhook_events_delivered_total{url=\"http://127.0.0.1:1/hook\"} 0\n"
            "waitroom_webhook_delivery_failures_total{url=\"http://127.0.0.1:1/hook\"} 0\n"
            "waitroom_webhook_events_dropped_total{url=\"http://127.0.0.1:1/hook\"} 0\n"
            "waitroom_webhook_queue_depth{url=\"http://127.0.0.1:1/hook\"} 0\n");

  a->stop();
  std::string both;
  const WebhookSink* sinks[] = {a.get(), b.get()};
  write_webhook_metrics(both, sinks);
  EXPECT_EQ(both.find("pw"), std::string::npos);
  EXPECT_EQ(both.find("token"), std::string::npos);
  const std::string dropped =
      "# TYPE waitroom_webhook_events_dropped_total counter\n"
      "waitroom_webhook_events_dropped_total{url=\"http://127.0.0.1:1/hook\"} 0\n"
      "waitroom_webhook_events_dropped_total{url=\"https://127.0.0.1:2/b\"} 0\n";
  EXPECT_NE(both.find(dropped), std::string::npos) << both;
  std::size_t type_lines = 0;
  for (std::size_t at = both.find("# TYPE"); at != std::string::npos;
       at = both.find("# TYPE", at + 1))
    ++type_lines;
  EXPECT_EQ(type_lines, 4u);

  std::string none;
  write_webhook_metrics(none, {});
  EXPECT_EQ(none, "");
}

// ---------------------------------------------------------------------------------------------
// https: a throw-away self-signed certificate for localhost and 127.0.0.1.

class WebhookSinkTls : public ::testing::Test {
 protected:
  // A receiver's TLS context and a CA file trusting its certificate, made for `names`.
  void use_certificate(const char* names) {
    const auto certificate = waitroom::testing::make_server_certificate(names);
    server_tls_ = {certificate.cert_pem, certificate.key_pem};
    ca_file_ = dir_.path() / "ca.pem";
    std::ofstream(ca_file_) << certificate.cert_pem;
  }

  waitroom::testing::TestHttpServer::Tls server_tls_;
  waitroom::testing::TempDir dir_;
  std::filesystem::path ca_file_;
};

TEST_F(WebhookSinkTls, DeliversToAReceiverWhoseCertificateVerifies) {
  Events events;
  use_certificate("DNS:localhost,IP:127.0.0.1");
  Receiver receiver(0, server_tls_);
  // By name: SNI and a DNS name check; "localhost" may resolve to ::1 first, which is refused.
  auto config = config_for("https://localhost:" + std::to_string(receiver.port()) + "/tls");
  config.ca_file = ca_file_.string();
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  for (int i = 0; i < 20; ++i) events.publish(numbered(i));
  ASSERT_TRUE(sink->wait_idle(2s));
  expect_in_order(receiver.accepted(), 20);
  EXPECT_EQ(receiver.accepted()[0].target, "/tls");
  EXPECT_EQ(receiver.connections(), 1);
  EXPECT_EQ(sink->stats().failures, 0u);

  // By address: no SNI, the certificate's IP entry is checked.
  config.url = "https://127.0.0.1:" + std::to_string(receiver.port()) + "/ip";
  auto by_ip = make_sink(events, config);
  ASSERT_TRUE(by_ip);
  events.publish(numbered(0));
  ASSERT_TRUE(by_ip->wait_idle(2s));
  EXPECT_EQ(receiver.accepted().back().target, "/ip");
  EXPECT_EQ(by_ip->stats().failures, 0u);
}

TEST_F(WebhookSinkTls, RefusesACertificateItDoesNotTrust) {
  Events events;
  use_certificate("DNS:localhost,IP:127.0.0.1");
  Receiver receiver(0, server_tls_);
  // The system's CAs never signed the test certificate.
  auto sink =
      make_sink(events, config_for("https://127.0.0.1:" + std::to_string(receiver.port()) + "/"));
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  ASSERT_TRUE(wait_until([&] { return sink->stats().failures >= 2; }));
  EXPECT_EQ(sink->stats().delivered, 0u);
  EXPECT_TRUE(receiver.requests().empty());
}

TEST_F(WebhookSinkTls, RefusesACertificateForAnotherName) {
  Events events;
  use_certificate("DNS:elsewhere.example");  // trusted, but not issued for 127.0.0.1
  Receiver receiver(0, server_tls_);
  auto config = config_for("https://127.0.0.1:" + std::to_string(receiver.port()) + "/");
  config.ca_file = ca_file_.string();
  auto sink = make_sink(events, config);
  ASSERT_TRUE(sink);
  events.publish(numbered(0));
  ASSERT_TRUE(wait_until([&] { return sink->stats().failures >= 1; }));
  EXPECT_EQ(sink->stats().delivered, 0u);
  EXPECT_TRUE(receiver.requests().empty());
}

}  // namespace
}  // namespace waitroom::ops
