#pragma once
// Delivers the event feed (ops/event_feed.hpp) to one HTTP(S) endpoint: at least once, in order
// within each room, signed, across crashes and restarts.
//
// The sink is a reader of the feed with a durable position per room (FeedCursors: a file in the
// data dir, or a hash in Redis). Its delivery thread takes up to max_batch events after its
// positions and POSTs them as
//
//   POST <url path and query>
//   Content-Type: application/json
//   User-Agent: waitroom
//   X-Waitroom-Timestamp: 1700000000
//   X-Waitroom-Signature: sha256=<hex>
//   {"events":[{"id","seq","type","room","time","time_ms","data"}, ...]}
//
// Any 2xx acknowledges the whole batch: the positions move past it and are saved. Anything else
// (refused connection, timeout, TLS error, 3xx as redirects are not followed, 4xx, 5xx) re-sends
// the SAME batch after a back-off that doubles from retry_min_ms to retry_max_ms, forever, until
// it is acknowledged or the sink stops. Nothing behind the batch overtakes it. A receiver sees a
// duplicate when a 2xx got lost or the process stopped before saving its position; event ids (and
// each room's seq) make that harmless.
//
// Verifying a delivery, on the receiver:
//   1. Take the raw request body bytes, before any JSON parsing or re-encoding.
//   2. t = X-Waitroom-Timestamp (Unix seconds). Refuse it if it is more than about 5 minutes
//      away from your clock: that bounds how long a captured request can be replayed. Retries
//      are signed afresh, so a legitimate request always carries a current timestamp.
//   3. expected = "sha256=" + lowercase_hex(HMAC_SHA256(key = secret, message = t + "." + body))
//   4. Compare expected with X-Waitroom-Signature in constant time (hmac.compare_digest,
//      crypto.timingSafeEqual, CRYPTO_memcmp); refuse on mismatch.
//   5. Process events, skipping ids already seen (delivery is at least once).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "net/http_client.hpp"
#include "ops/event_feed.hpp"

namespace waitroom::ops {

struct WebhookConfig {
  std::string url;     // http:// or https:// (userinfo, if any, is sent as HTTP Basic auth)
  std::string secret;  // HMAC key for X-Waitroom-Signature; required
  std::vector<std::string> types;  // event types to deliver; empty = all
  // Accepted for older files, and not used: undelivered events are kept in the store, up to
  // webhook_max_lag_mb per room (docs/events.md).
  std::size_t max_queue = 100000;
  std::size_t max_batch = 100;     // events per POST
  std::int64_t timeout_ms = 5000;  // one attempt: resolve + connect + TLS + request + response
  std::int64_t retry_min_ms = 200;
  std::int64_t retry_max_ms = 5000;
  std::string ca_file;  // https: PEM file of CAs to trust instead of the system's; empty = system

  bool operator==(const WebhookConfig&) const = default;
};

// Checks what create() checks without starting anything. The message starts with the field,
// e.g. "url: must start with http:// or https://", so callers can prefix where it came from.
core::Result<void> check_webhook_config(const WebhookConfig& config);

// "sha256=" + lowercase hex HMAC-SHA256(secret, timestamp + "." + body): the signature header.
std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body);

// A snapshot of the sink's counters.
struct WebhookStats {
  std::uint64_t delivered = 0;    // events acknowledged by the receiver (re-sends count again)
  std::uint64_t failures = 0;     // failed delivery attempts
  std::uint64_t dropped = 0;      // events let go (webhook_max_lag_mb) before they were delivered
  std::uint64_t queue_depth = 0;  // events in the feed not yet acknowledged by the receiver
};

// The key a sink's positions are saved under: its url as display_url() shows it, with "#2", "#3"
// for the second and third sink of the same url.
std::string webhook_reader_key(std::string_view display_url, std::size_t same_url_before);

class WebhookSink final {
 public:
  // Validates the config (bad url, empty secret, ... name the field), joins `feed` as a reader
  // and starts the delivery thread, which first loads the sink's positions from `cursors` (a sink
  // never seen before starts at the feed's newest events). `same_url_before`: sinks of the same
  // url created before this one. The feed and the cursors outlive the sink.
  static core::Result<std::unique_ptr<WebhookSink>> create(WebhookConfig config, EventFeed& feed,
                                                           FeedCursors& cursors,
                                                           std::size_t same_url_before = 0);

  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;
  ~WebhookSink();  // stop()

  // Stops the delivery thread within moments, also while it backs off, connects or waits for a
  // response; what is delivered is saved first. Idempotent; call from one thread.
  void stop();

  // Waits until the receiver has every event the feed holds for it (true), or until `timeout`
  // passes (false). For an orderly shutdown (call before stop()) and tests.
  bool wait_idle(std::chrono::milliseconds timeout);

  WebhookStats stats() const;

  // The url as it appears in metrics and logs: without userinfo and query (either may carry a
  // credential).
  const std::string& display_url() const { return display_url_; }
  const std::string& reader_key() const { return key_; }

  // Appends this sink's four samples (no # HELP/# TYPE lines), e.g.
  //   waitroom_webhook_events_delivered_total{url="https://example.com/hook"} 42
  // With several sinks use write_webhook_metrics instead, which keeps each family together.
  void write_metrics(std::string& out) const;

 private:
  WebhookSink(WebhookConfig config, std::string authorization,
              std::unique_ptr<net::HttpClient> client, EventFeed& feed, FeedCursors& cursors,
              std::string key);

  bool wanted(std::string_view type) const;
  void run();  // the delivery thread
  // Loads the positions once; then retrying while they cannot be read (false if stopped first).
  core::Result<void> try_position();
  bool position();
  // While another process delivers for this sink: follows its saved positions.
  void follow();
  // POSTs `body` until a 2xx (true), stop() or another process leads (false).
  bool deliver(std::string body);
  // Saves the positions delivered so far; the feed then lets go of what every reader has.
  void save_positions();
  void note_missed(std::uint64_t missed);
  // Sleeps up to `d`, or less when stop() is called; true when stopping.
  bool pause(std::chrono::milliseconds d);

  const WebhookConfig config_;
  const std::string display_url_;
  const std::string authorization_;  // "Basic ..." from the URL's userinfo, or empty
  std::unique_ptr<net::HttpClient> client_;
  EventFeed& feed_;
  FeedCursors& cursors_;
  const std::string key_;
  const std::size_t reader_;

  std::mutex mutex_;
  std::condition_variable wake_;       // stop(): a back-off or a pause ends
  std::condition_variable idle_;       // a batch was acknowledged: wait_idle() looks again
  bool in_flight_ = false;             // guarded by mutex_: a batch taken, not yet acknowledged
  std::atomic<bool> stopping_{false};  // written under mutex_, read anywhere
  bool positioned_ = false;            // set by create() or, failing there, by the delivery thread
  bool unsaved_ = false;               // delivery thread only: positions moved since the save
  std::chrono::steady_clock::time_point saved_at_;  // delivery thread only

  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> dropped_{0};

  std::thread thread_;
};

// Prometheus text for all `sinks`: # HELP and # TYPE once per family, then one sample per sink.
void write_webhook_metrics(std::string& out, std::span<const WebhookSink* const> sinks);

}  // namespace waitroom::ops
