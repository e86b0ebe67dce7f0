#pragma once
// Delivers audit events to one HTTP(S) endpoint: at least once, in publish order, signed.
//
// publish() only appends to a bounded in-memory queue (a full queue drops the event and counts
// it), so the request path never waits on a receiver. One delivery thread per sink takes up to
// max_batch events from the front of the queue and POSTs them as
//
//   POST <url path and query>
//   Content-Type: application/json
//   User-Agent: waitroom
//   X-Waitroom-Timestamp: 1700000000
//   X-Waitroom-Signature: sha256=<hex>
//   {"events":[{"id","type","room","time","time_ms","data"}, ...]}
//
// Any 2xx acknowledges the whole batch. Anything else (refused connection, timeout, TLS error,
// 3xx as redirects are not followed, 4xx, 5xx) re-sends the SAME batch after a back-off that
// doubles from retry_min_ms to retry_max_ms, forever, until it is acknowledged or the sink
// stops. Nothing behind the batch overtakes it, so events arrive in publish order (and so in
// order per room). A receiver sees a duplicate only as a whole batch sent again (its 2xx got
// lost); event ids make that harmless.
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
//
// The queue lives in memory: events still queued when the process stops are lost.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "net/http_client.hpp"
#include "ops/event_sink.hpp"

namespace waitroom::ops {

struct WebhookConfig {
  std::string url;     // http:// or https:// (userinfo, if any, is sent as HTTP Basic auth)
  std::string secret;  // HMAC key for X-Waitroom-Signature; required
  std::vector<std::string> types;  // event types to deliver; empty = all
  std::size_t max_queue = 100000;  // events waiting (including the batch in flight) before drops
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
  std::uint64_t dropped = 0;      // events refused because the queue was full (or after stop)
  std::uint64_t queue_depth = 0;  // events queued, including the batch in flight
};

class WebhookSink final : public EventSink {
 public:
  // Validates the config (bad url, empty secret, ... name the field) and starts the delivery
  // thread.
  static core::Result<std::unique_ptr<WebhookSink>> create(WebhookConfig config);

  WebhookSink(const WebhookSink&) = delete;
  WebhookSink& operator=(const WebhookSink&) = delete;
  ~WebhookSink() override;  // stop()

  // Never blocks on I/O: filters by type, copies the event into the queue or counts a drop.
  void publish(const Event& event) override;

  // Stops the delivery thread within moments, also while it backs off, connects or waits for a
  // response. Queued events are abandoned. Idempotent; call from one thread.
  void stop();

  // Waits until the queue is empty, i.e. everything published so far is delivered (true), or
  // until `timeout` passes (false). For an orderly shutdown (call before stop()) and tests.
  bool wait_idle(std::chrono::milliseconds timeout);

  WebhookStats stats() const;

  // The url as it appears in metrics and logs: without userinfo and query (either may carry a
  // credential).
  const std::string& display_url() const { return display_url_; }

  // Appends this sink's four samples (no # HELP/# TYPE lines), e.g.
  //   waitroom_webhook_events_delivered_total{url="https://example.com/hook"} 42
  // With several sinks use write_webhook_metrics instead, which keeps each family together.
  void write_metrics(std::string& out) const;

 private:
  WebhookSink(WebhookConfig config, std::string authorization,
              std::unique_ptr<net::HttpClient> client);

  bool wanted(std::string_view type) const;
  void run();  // the delivery thread
  // POSTs `body` until a 2xx (true) or stop() (false).
  bool deliver(std::string body);
  void note_drops();

  const WebhookConfig config_;
  const std::string display_url_;
  const std::string authorization_;  // "Basic ..." from the URL's userinfo, or empty
  std::unique_ptr<net::HttpClient> client_;

  std::mutex mutex_;
  std::condition_variable wake_;       // events arrived or stop(): the delivery thread looks again
  std::condition_variable idle_;       // queue drained: wait_idle() looks again
  std::deque<Event> queue_;            // guarded by mutex_
  std::size_t in_flight_ = 0;          // guarded by mutex_: events taken from queue_, not yet acked
  std::atomic<bool> stopping_{false};  // written under mutex_, read anywhere

  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> depth_{0};
  std::uint64_t dropped_logged_ = 0;  // delivery thread only

  std::thread thread_;
};

// Prometheus text for all `sinks`: # HELP and # TYPE once per family, then one sample per sink.
void write_webhook_metrics(std::string& out, std::span<const WebhookSink* const> sinks);

}  // namespace waitroom::ops
