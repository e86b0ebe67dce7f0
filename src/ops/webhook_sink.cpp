#include "ops/webhook_sink.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/base64.hpp"
#include "net/http_client.hpp"
#include "ops/log.hpp"

namespace waitroom::ops {

using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kUserAgent = "waitroom";
constexpr std::string_view kTimestampHeader = "X-Waitroom-Timestamp";
constexpr std::string_view kSignatureHeader = "X-Waitroom-Signature";
// Receivers answer with a word or two; a bigger body means something else is listening.
constexpr std::uint64_t kMaxResponseBodyBytes = 1 << 20;
constexpr std::int64_t kMaxTimeoutMs = 10 * 60 * 1000;
constexpr std::int64_t kMaxRetryMs = 60 * 60 * 1000;
constexpr char kThreadName[] = "webhook";  // at most 15 characters (pthread_setname_np)

core::Result<net::HttpUrl> parse_url(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::bad_request, "url: is required");
  auto url = net::parse_http_url(text);
  if (!url) return fail(ErrorCode::bad_request, "url: " + url.error());
  if (url->has_fragment)
    return fail(ErrorCode::bad_request, "url: must not have a #fragment (it is never sent)");
  return std::move(*url);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string batch_body(const std::vector<const FedEvent*>& batch) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) body += ',';
    append_event_json(body, batch[i]->room, batch[i]->seq, batch[i]->event);
  }
  body += "]}";
  return body;
}

std::int64_t unix_now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
  std::uint64_t WebhookStats::*field;
};

constexpr Family kFamilies[] = {
    {"waitroom_webhook_events_delivered_total", "counter",
     "Events a webhook receiver acknowledged with a 2xx (re-sent batches count again).",
     &WebhookStats::delivered},
    {"waitroom_webhook_delivery_failures_total", "counter",
     "Webhook delivery attempts that failed and will be retried.", &WebhookStats::failures},
    {"waitroom_webhook_events_dropped_total", "counter",
     "Events let go before delivery because a room's undelivered events passed "
     "webhook_max_lag_mb.",
     &WebhookStats::dropped},
    {"waitroom_webhook_queue_depth", "gauge",
     "Events the store keeps for this webhook that it has not acknowledged yet.",
     &WebhookStats::queue_depth},
};

void write_sample(std::string& out, const Family& family, std::string_view url,
                  const WebhookStats& stats) {
  out += fmt::format("{}{{url=\"{}\"}} {}\n", family.name, escape_label_value(url),
                     stats.*family.field);
}

}  // namespace

core::Result<void> check_webhook_config(const WebhookConfig& config) {
  if (auto url = parse_url(config.url); !url) return std::unexpected(url.error());
  if (config.secret.empty()) return fail(ErrorCode::bad_request, "secret: is required");
  for (const auto& type : config.types) {
    if (type.empty()) return fail(ErrorCode::bad_request, "types: must not contain \"\"");
  }
  if (config.max_queue < 1) return fail(ErrorCode::bad_request, "max_queue: must be at least 1");
  if (config.max_batch < 1) return fail(ErrorCode::bad_request, "max_batch: must be at least 1");
  if (config.timeout_ms < 1 || config.timeout_ms > kMaxTimeoutMs) {
    return fail(ErrorCode::bad_request,
                "timeout_ms: must be between 1 and " + std::to_string(kMaxTimeoutMs));
  }
  if (config.retry_min_ms < 1 || config.retry_min_ms > kMaxRetryMs) {
    return fail(ErrorCode::bad_request,
                "retry_min_ms: must be between 1 and " + std::to_string(kMaxRetryMs));
  }
  if (config.retry_max_ms < config.retry_min_ms || config.retry_max_ms > kMaxRetryMs) {
    return fail(ErrorCode::bad_request,
                "retry_max_ms: must be between retry_min_ms and " + std::to_string(kMaxRetryMs));
  }
  return {};
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
           &mac_size) == nullptr) {
    return {};  // only with a broken OpenSSL; an empty header fails verification, as it should
  }
  std::string out = "sha256=";
  out.reserve(out.size() + 2 * mac_size);
  for (unsigned i = 0; i < mac_size; ++i) out += fmt::format("{:02x}", mac[i]);
  return out;
}

std::string webhook_reader_key(std::string_view display_url, std::size_t same_url_before) {
  std::string key(display_url);
  if (same_url_before > 0) key += "#" + std::to_string(same_url_before + 1);
  return key;
}

core::Result<std::unique_ptr<WebhookSink>> WebhookSink::create(WebhookConfig config,
                                                               EventFeed& feed,
                                                               FeedCursors& cursors,
                                                               std::size_t same_url_before) {
  if (auto ok = check_webhook_config(config); !ok)
    return fail(ok.error().code, "webhook " + ok.error().detail);
  auto url = parse_url(config.url);
  if (!url) return std::unexpected(url.error());
  std::string authorization;
  if (url->has_userinfo)
    authorization = "Basic " + core::base64_encode(url->user + ":" + url->password);
  auto client = net::HttpClient::create(std::move(*url),
                                        {.timeout = std::chrono::milliseconds(config.timeout_ms),
                                         .ca_file = config.ca_file,
                                         .max_body_bytes = kMaxResponseBodyBytes});
  if (!client) return fail(ErrorCode::bad_request, "webhook " + client.error());
  std::string key = webhook_reader_key((*client)->url().display, same_url_before);
  std::unique_ptr<WebhookSink> sink(new WebhookSink(std::move(config), std::move(authorization),
                                                    std::move(*client), feed, cursors,
                                                    std::move(key)));
  // Placed before anything else happens: a new sink starts at the newest event, and an event the
  // caller makes next must not slip in before that. (If the positions cannot be read now, the
  // delivery thread keeps trying.)
  (void)sink->try_position();
  try {
    sink->thread_ = std::thread([s = sink.get()] { s->run(); });
  } catch (const std::system_error& e) {
    return fail(ErrorCode::internal, std::string("webhook: cannot start its thread: ") + e.what());
  }
  ::pthread_setname_np(sink->thread_.native_handle(), kThreadName);
  return sink;
}

WebhookSink::WebhookSink(WebhookConfig config, std::string authorization,
                         std::unique_ptr<net::HttpClient> client, EventFeed& feed,
                         FeedCursors& cursors, std::string key)
    : config_(std::move(config)),
      display_url_(client->url().display),
      authorization_(std::move(authorization)),
      client_(std::move(client)),
      feed_(feed),
      cursors_(cursors),
      key_(std::move(key)),
      reader_(feed.add_reader(key_)) {}

WebhookSink::~WebhookSink() { stop(); }

bool WebhookSink::wanted(std::string_view type) const {
  if (config_.types.empty()) return true;
  return std::find(config_.types.begin(), config_.types.end(), type) != config_.types.end();
}

void WebhookSink::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  feed_.wake();  // a next() waiting for events looks again, and sees stopping_
  client_->abort();
  if (thread_.joinable()) thread_.join();
}

bool WebhookSink::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!in_flight_ && feed_.backlog(reader_) == 0) return true;
    // Woken by each acknowledged batch; polled besides, as events may arrive and leave meanwhile.
    idle_.wait_until(
        lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
    if (std::chrono::steady_clock::now() >= deadline)
      return !in_flight_ && feed_.backlog(reader_) == 0;
  }
}

WebhookStats WebhookSink::stats() const {
  return {delivered_.load(std::memory_order_relaxed), failures_.load(std::memory_order_relaxed),
          dropped_.load(std::memory_order_relaxed), feed_.backlog(reader_)};
}

void WebhookSink::write_metrics(std::string& out) const {
  const WebhookStats s = stats();
  for (const Family& family : kFamilies) write_sample(out, family, display_url_, s);
}

void write_webhook_metrics(std::string& out, std::span<const WebhookSink* const> sinks) {
  if (sinks.empty()) return;
  std::vector<WebhookStats> stats;
  stats.reserve(sinks.size());
  for (const WebhookSink* sink : sinks) stats.push_back(sink->stats());
  for (const Family& family : kFamilies) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                       family.type);
    for (std::size_t i = 0; i < sinks.size(); ++i)
      write_sample(out, family, sinks[i]->display_url(), stats[i]);
  }
}

// How often a sink that does not deliver (another process does) follows the saved positions, and
// how long a delivering one waits for events before it looks whether it still leads.
constexpr auto kFollowEvery = std::chrono::seconds(1);
// Positions are saved at most this often while events keep coming (and at once when the sink
// catches up): a crash re-sends at most what was delivered since.
constexpr auto kSaveEvery = std::chrono::milliseconds(200);

bool WebhookSink::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, d, [&] { return stopping_.load(); });
}

core::Result<void> WebhookSink::try_position() {
  auto loaded = cursors_.load(key_);
  if (!loaded) return std::unexpected(loaded.error());
  feed_.set_positions(reader_, loaded->value_or(FeedPositions{}), !loaded->has_value());
  // A new sink's place is saved at once: after a crash it continues from there, and does not
  // start afresh at the newest events (skipping what it had not delivered).
  if (!loaded->has_value()) {
    unsaved_ = true;
    save_positions();
  }
  positioned_ = true;
  return {};
}

bool WebhookSink::position() {
  std::uint64_t failed = 0;
  while (!stopping_) {
    auto positioned = try_position();
    if (positioned) return true;
    if (failed++ == 0)
      ops::log_warn("webhook: cannot read where its delivery stands; retrying",
                    {{"url", display_url_}, {"error", positioned.error().detail}});
    if (pause(kFollowEvery)) return false;
  }
  return false;
}

void WebhookSink::follow() {
  auto loaded = cursors_.load(key_);
  if (loaded && *loaded) feed_.saved(reader_, **loaded);
}

void WebhookSink::save_positions() {
  if (!unsaved_) return;
  const FeedPositions positions = feed_.positions(reader_);
  if (auto saved = cursors_.save(key_, positions); !saved) {
    // Kept in memory and saved with the next batch; meanwhile the feed keeps the events.
    ops::log_warn("webhook: cannot save where its delivery stands",
                  {{"url", display_url_}, {"error", saved.error().detail}});
    return;
  }
  feed_.saved(reader_, positions);
  unsaved_ = false;
  saved_at_ = std::chrono::steady_clock::now();
}

void WebhookSink::run() {
  if (!positioned_ && !position()) return;
  while (!stopping_) {
    if (!cursors_.lead(key_)) {
      save_positions();
      follow();
      if (pause(kFollowEvery)) break;
      continue;
    }
    EventFeed::Pull pull = feed_.next(reader_, config_.max_batch, kFollowEvery);
    if (stopping_) break;
    note_missed(pull.missed);
    if (pull.events.empty()) {
      save_positions();
      continue;
    }
    std::vector<const FedEvent*> batch;
    for (const FedEvent& e : pull.events)
      if (wanted(e.event.type)) batch.push_back(&e);
    if (!batch.empty()) {
      {
        std::lock_guard lock(mutex_);
        in_flight_ = true;
      }
      const bool delivered = deliver(batch_body(batch));
      if (delivered) delivered_.fetch_add(batch.size(), std::memory_order_relaxed);
      {
        std::lock_guard lock(mutex_);
        in_flight_ = false;
      }
      // Not acknowledged: stopped meanwhile (sent again after the restart), or this process no
      // longer leads (the one that does sends it from the saved place).
      if (!delivered) {
        if (stopping_) break;
        continue;
      }
    }
    feed_.acknowledge(reader_, pull.events);
    unsaved_ = true;
    if (pull.events.size() < config_.max_batch ||
        std::chrono::steady_clock::now() - saved_at_ >= kSaveEvery)
      save_positions();
    idle_.notify_all();
  }
  save_positions();
}

bool WebhookSink::deliver(std::string body) {
  net::ClientRequest req{.method = "POST", .headers = {}, .body = std::move(body)};
  auto backoff = std::chrono::milliseconds(config_.retry_min_ms);
  const auto backoff_max = std::chrono::milliseconds(config_.retry_max_ms);
  std::uint64_t failed_attempts = 0;
  while (!stopping_) {
    // Signed per attempt: a retry carries a fresh timestamp, so receivers can keep a tight
    // replay window however long the outage was.
    const std::string timestamp = std::to_string(unix_now_s());
    req.headers = {
        {"User-Agent", std::string(kUserAgent)},
        {"Content-Type", "application/json"},
        {std::string(kTimestampHeader), timestamp},
        {std::string(kSignatureHeader), webhook_signature(config_.secret, timestamp, req.body)}};
    if (!authorization_.empty()) req.headers.emplace_back("Authorization", authorization_);
    const auto answer = client_->send(req);
    if (answer && answer->status >= 200 && answer->status < 300) {
      if (failed_attempts > 0) {
        ops::log_info("webhook delivery recovered",
                      {{"url", display_url_}, {"failed_attempts", failed_attempts}});
      }
      return true;
    }
    if (stopping_) return false;  // stop() cut the attempt short: not the receiver's failure
    failures_.fetch_add(1, std::memory_order_relaxed);
    // Once per outage, not once per attempt: retries run forever.
    if (failed_attempts++ == 0) {
      ops::log_warn("webhook delivery failed; retrying with back-off",
                    {{"url", display_url_},
                     {"error", answer ? "HTTP " + std::to_string(answer->status)
                                      : answer.error().message()}});
    }
    // Another process took over while the receiver was failing (Redis: the lease ran out): it
    // delivers from the saved place, and this one stops sending.
    if (!cursors_.lead(key_)) return false;
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, backoff, [&] { return stopping_.load(); })) return false;
    backoff = std::min(backoff * 2, backoff_max);
  }
  return false;
}

void WebhookSink::note_missed(std::uint64_t missed) {
  if (missed == 0) return;
  dropped_.fetch_add(missed, std::memory_order_relaxed);
  ops::log_warn(
      "webhook fell behind by more than webhook_max_lag_mb; the oldest events were let go",
      {{"url", display_url_}, {"dropped", missed}});
}

}  // namespace waitroom::ops
