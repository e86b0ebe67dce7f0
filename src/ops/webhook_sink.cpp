#include "ops/webhook_sink.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <pthread.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "ops/log.hpp"

namespace waitroom::ops {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using core::ErrorCode;
using core::fail;
using SteadyClock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;

namespace {

constexpr std::string_view kUserAgent = "waitroom";
constexpr std::string_view kTimestampHeader = "X-Waitroom-Timestamp";
constexpr std::string_view kSignatureHeader = "X-Waitroom-Signature";
// Receivers answer with a word or two; a bigger body means something else is listening.
constexpr std::uint64_t kMaxResponseBodyBytes = 1 << 20;
constexpr std::int64_t kMaxTimeoutMs = 10 * 60 * 1000;
constexpr std::int64_t kMaxRetryMs = 60 * 60 * 1000;
constexpr unsigned kHttpVersion11 = 11;
constexpr unsigned kSwitchingProtocols = 101;
constexpr unsigned kMaxPort = 65535;
constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;
constexpr char kThreadName[] = "webhook";  // at most 15 characters (pthread_setname_np)

// Everything delivery needs from the URL, worked out once.
struct Endpoint {
  bool tls = false;
  std::string host;           // decoded; IPv6 without brackets: for the resolver and the cert
  bool host_is_ip = false;    // IP literals get no SNI (RFC 6066 section 3)
  std::uint16_t port = 0;     // explicit, or 80/443
  std::string host_header;    // host[:port] as written in the URL
  std::string target;         // path and query, at least "/"
  std::string authorization;  // "Basic ..." from userinfo, or empty
  std::string display_url;    // without userinfo and query
};

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

core::Result<Endpoint> parse_endpoint(std::string_view text) {
  if (text.empty()) return fail(ErrorCode::bad_request, "url: is required");
  auto parsed = urls::parse_uri(text);
  if (!parsed) {
    return fail(ErrorCode::bad_request,
                "url: not a valid absolute URL (" + parsed.error().message() + ")");
  }
  const urls::url_view url = *parsed;
  Endpoint e;
  if (url.scheme_id() == urls::scheme::https) {
    e.tls = true;
  } else if (url.scheme_id() != urls::scheme::http) {
    return fail(ErrorCode::bad_request, "url: must start with http:// or https://");
  }
  if (!url.has_authority() || url.encoded_host().empty())
    return fail(ErrorCode::bad_request, "url: has no host");
  switch (url.host_type()) {
    case urls::host_type::name:
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      e.host_is_ip = true;
      break;
    default:
      return fail(ErrorCode::bad_request, "url: host must be a name, IPv4 or IPv6 address");
  }
  e.host = url.host_address();
  e.port = e.tls ? kHttpsPort : kHttpPort;
  e.host_header = url.encoded_host();
  if (url.has_port() && !url.port().empty()) {
    // Parsed here: Boost.URL 1.81's port_number() wraps around above 65535 instead of failing.
    const std::string_view digits = url.port();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port < 1 || port > kMaxPort)
      return fail(ErrorCode::bad_request, "url: port must be 1-65535");
    e.port = static_cast<std::uint16_t>(port);
    e.host_header += ":" + std::to_string(port);
  }
  if (url.has_fragment())
    return fail(ErrorCode::bad_request, "url: must not have a #fragment (it is never sent)");
  e.target = url.encoded_target();
  if (e.target.empty() || e.target.front() != '/') e.target.insert(0, "/");
  if (url.has_userinfo()) e.authorization = "Basic " + base64(url.user() + ":" + url.password());
  urls::url shown(url);
  shown.remove_userinfo();
  shown.remove_query();
  e.display_url = std::string(shown.buffer());
  return e;
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

std::string batch_body(const std::vector<Event>& batch) {
  std::string body = R"({"events":[)";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) body += ',';
    body += boost::json::serialize(event_json(batch[i]));
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
     "Events dropped because the webhook queue was full.", &WebhookStats::dropped},
    {"waitroom_webhook_queue_depth", "gauge",
     "Events waiting for webhook delivery, including the batch in flight.",
     &WebhookStats::queue_depth},
};

void write_sample(std::string& out, const Family& family, std::string_view url,
                  const WebhookStats& stats) {
  out += fmt::format("{}{{url=\"{}\"}} {}\n", family.name, escape_label_value(url),
                     stats.*family.field);
}

}  // namespace

// One HTTP/1.1 connection to the receiver, driven synchronously by the delivery thread: each
// step starts one asynchronous operation and runs the private io_context until it completes.
// Going through the async API is what gives every step a deadline (tcp_stream::expires_at and a
// deadline for name lookups, see resolve()) and lets stop() cancel a step from another thread
// via abort().
struct WebhookSink::Client {
  struct Outcome {
    beast::error_code ec;  // set: no response
    unsigned status = 0;
  };

  Client(Endpoint endpoint, std::chrono::milliseconds timeout)
      : endpoint_(std::move(endpoint)), timeout_(timeout) {}

  // https only: trust `ca_file` (PEM) or, when empty, the system's default CA paths.
  core::Result<void> load_tls(const std::string& ca_file) {
    tls_.emplace(ssl::context::tls_client);
    beast::error_code ec;
    if (ca_file.empty())
      tls_->set_default_verify_paths(ec);
    else
      tls_->load_verify_file(ca_file, ec);
    if (ec) {
      return fail(ErrorCode::bad_request,
                  (ca_file.empty() ? std::string("ca_file: cannot load the system CA paths: ")
                                   : "ca_file: cannot load " + ca_file + ": ") +
                      ec.message());
    }
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    return {};
  }

  Request make_request(std::string body) const {
    Request req{http::verb::post, endpoint_.target, kHttpVersion11};
    req.set(http::field::host, endpoint_.host_header);
    req.set(http::field::user_agent, kUserAgent);
    req.set(http::field::content_type, "application/json");
    if (!endpoint_.authorization.empty())
      req.set(http::field::authorization, endpoint_.authorization);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  // One attempt within timeout_: reuses the kept-alive connection or opens one.
  Outcome post(Request& req) {
    const auto deadline = SteadyClock::now() + timeout_;
    bool reused = connected();
    while (true) {
      if (!connected()) {
        if (const auto ec = connect(deadline)) return {ec};
      }
      bool keep_alive = false;
      const Outcome out = secure_ ? exchange(*secure_, req, deadline, keep_alive)
                                  : exchange(*plain_, req, deadline, keep_alive);
      if (out.ec || !keep_alive) close();
      if (!out.ec) return out;
      // A kept-alive connection the receiver closed while it was idle fails on first use. That
      // says nothing about the receiver, so try once more on a fresh connection.
      if (!reused || out.ec == beast::error::timeout || aborted_) return out;
      reused = false;
    }
  }

  // Any thread: makes the step in progress, and every later one, fail at once.
  void abort() {
    aborted_ = true;
    {
      std::lock_guard lock(lookup_mutex_);
      if (lookup_) {
        std::lock_guard lookup_lock(lookup_->mutex);
        lookup_->done_or_aborted.notify_all();
      }
    }
    asio::post(ioc_, [this] {
      if (plain_) plain_->close();
      if (secure_) secure_->next_layer().close();
    });
  }

 private:
  bool connected() const { return plain_ || secure_; }

  void close() {
    if (plain_) plain_->close();
    if (secure_) secure_->next_layer().close();
    plain_.reset();
    secure_.reset();
    buffer_.clear();
  }

  // Starts one operation with `start(handler)` and runs the io_context until its handler ran.
  template <class Start>
  beast::error_code wait(Start&& start) {
    if (aborted_) return asio::error::operation_aborted;
    std::optional<beast::error_code> result;
    start([&result](const beast::error_code& ec, auto&&...) { result = ec; });
    ioc_.restart();
    while (!result && ioc_.run_one() != 0) {
    }
    return result.value_or(asio::error::operation_aborted);
  }

  // A name lookup on its own thread. getaddrinfo can be neither cancelled nor given a deadline,
  // and Asio's resolver waits for it when cancelled and when destroyed, so a DNS server that does
  // not answer would hold up both timeout_ms and stop(). Here the delivery thread just stops
  // waiting at the deadline or on abort(); the detached lookup finishes in its own time and its
  // answer is dropped.
  struct Lookup {
    std::mutex mutex;
    std::condition_variable done_or_aborted;
    bool done = false;
    beast::error_code ec;
    std::vector<tcp::endpoint> endpoints;
  };

  beast::error_code resolve(SteadyClock::time_point deadline, std::vector<tcp::endpoint>& out) {
    if (endpoint_.host_is_ip) {  // nothing to look up
      out.emplace_back(asio::ip::make_address(endpoint_.host), endpoint_.port);
      return {};
    }
    beast::error_code ec;
    auto lookup = std::make_shared<Lookup>();
    {
      std::lock_guard lock(lookup_mutex_);
      lookup_ = lookup;
    }
    try {
      std::thread([lookup, host = endpoint_.host, port = std::to_string(endpoint_.port)] {
        asio::io_context ioc;
        tcp::resolver resolver(ioc);
        beast::error_code e;
        const auto results = resolver.resolve(host, port, e);
        std::lock_guard lock(lookup->mutex);
        lookup->ec = e;
        for (const auto& entry : results) lookup->endpoints.push_back(entry.endpoint());
        lookup->done = true;
        lookup->done_or_aborted.notify_all();
      }).detach();
    } catch (const std::system_error& e) {
      ec = e.code();
    }
    bool done = false;
    if (!ec) {
      std::unique_lock lock(lookup->mutex);
      done = lookup->done_or_aborted.wait_until(lock, deadline,
                                                [&] { return lookup->done || aborted_.load(); });
      if (aborted_)
        ec = asio::error::operation_aborted;
      else if (!done)
        ec = beast::error::timeout;
      else if (lookup->ec)
        ec = lookup->ec;
      else
        out = std::move(lookup->endpoints);
    }
    std::lock_guard lock(lookup_mutex_);
    lookup_.reset();
    return ec;
  }

  beast::error_code connect(SteadyClock::time_point deadline) {
    close();
    std::vector<tcp::endpoint> endpoints;
    auto ec = resolve(deadline, endpoints);
    if (ec) return ec;

    beast::tcp_stream& stream =
        tls_ ? secure_.emplace(ioc_, *tls_).next_layer() : plain_.emplace(ioc_);
    stream.expires_at(deadline);
    ec = wait([&](auto done) { stream.async_connect(endpoints, done); });
    if (ec) {
      close();
      return ec;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);  // a batch is one write; send it now
    if (!secure_) return {};

    if (!endpoint_.host_is_ip &&
        SSL_set_tlsext_host_name(secure_->native_handle(), endpoint_.host.c_str()) != 1) {
      close();
      return beast::error_code(static_cast<int>(::ERR_get_error()),
                               asio::error::get_ssl_category());
    }
    secure_->set_verify_mode(ssl::verify_peer);
    secure_->set_verify_callback(ssl::host_name_verification(endpoint_.host));
    stream.expires_at(deadline);
    ec = wait([&](auto done) { secure_->async_handshake(ssl::stream_base::client, done); });
    if (ec) close();
    return ec;
  }

  template <class Stream>
  Outcome exchange(Stream& stream, Request& req, SteadyClock::time_point deadline,
                   bool& keep_alive) {
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(deadline);
    auto ec = wait([&](auto done) { http::async_write(stream, req, done); });
    if (ec) return {ec};
    while (true) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBodyBytes);
      lowest.expires_at(deadline);
      ec = wait([&](auto done) { http::async_read(stream, buffer_, parser, done); });
      if (ec) return {ec};
      const unsigned status = parser.get().result_int();
      // An interim answer (100 Continue, 103 Early Hints): the real one follows on the wire.
      if (status / 100 == 1 && status != kSwitchingProtocols) continue;
      keep_alive = parser.get().keep_alive();
      return {{}, status};
    }
  }

  const Endpoint endpoint_;
  const std::chrono::milliseconds timeout_;
  asio::io_context ioc_{1};
  std::mutex lookup_mutex_;  // guards lookup_, which abort() wakes
  std::shared_ptr<Lookup> lookup_;
  std::optional<ssl::context> tls_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  std::atomic<bool> aborted_{false};
};

core::Result<void> check_webhook_config(const WebhookConfig& config) {
  if (auto endpoint = parse_endpoint(config.url); !endpoint)
    return std::unexpected(endpoint.error());
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

core::Result<std::unique_ptr<WebhookSink>> WebhookSink::create(WebhookConfig config) {
  if (auto ok = check_webhook_config(config); !ok)
    return fail(ok.error().code, "webhook " + ok.error().detail);
  auto endpoint = parse_endpoint(config.url);
  if (!endpoint) return std::unexpected(endpoint.error());
  std::string display_url = endpoint->display_url;
  const bool tls = endpoint->tls;
  auto client =
      std::make_unique<Client>(std::move(*endpoint), std::chrono::milliseconds(config.timeout_ms));
  if (tls) {
    if (auto loaded = client->load_tls(config.ca_file); !loaded)
      return fail(loaded.error().code, "webhook " + loaded.error().detail);
  }
  std::unique_ptr<WebhookSink> sink(
      new WebhookSink(std::move(config), std::move(display_url), std::move(client)));
  try {
    sink->thread_ = std::thread([s = sink.get()] { s->run(); });
  } catch (const std::system_error& e) {
    return fail(ErrorCode::internal, std::string("webhook: cannot start its thread: ") + e.what());
  }
  ::pthread_setname_np(sink->thread_.native_handle(), kThreadName);
  return sink;
}

WebhookSink::WebhookSink(WebhookConfig config, std::string display_url,
                         std::unique_ptr<Client> client)
    : config_(std::move(config)),
      display_url_(std::move(display_url)),
      client_(std::move(client)) {}

WebhookSink::~WebhookSink() { stop(); }

bool WebhookSink::wanted(std::string_view type) const {
  if (config_.types.empty()) return true;
  return std::find(config_.types.begin(), config_.types.end(), type) != config_.types.end();
}

void WebhookSink::publish(const Event& event) {
  if (!wanted(event.type)) return;
  Event copy = event;  // before taking the lock, so producers hold it only for the push
  bool was_idle = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() + in_flight_ >= config_.max_queue) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_idle = queue_.empty() && in_flight_ == 0;
    queue_.push_back(std::move(copy));
    depth_.store(queue_.size() + in_flight_, std::memory_order_relaxed);
  }
  // The delivery thread only sleeps on wake_ for events when it has nothing at all to do.
  if (was_idle) wake_.notify_one();
}

void WebhookSink::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  client_->abort();
  if (thread_.joinable()) thread_.join();
}

bool WebhookSink::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && in_flight_ == 0; });
}

WebhookStats WebhookSink::stats() const {
  return {delivered_.load(std::memory_order_relaxed), failures_.load(std::memory_order_relaxed),
          dropped_.load(std::memory_order_relaxed), depth_.load(std::memory_order_relaxed)};
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

void WebhookSink::run() {
  std::vector<Event> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      // The batch leaves the queue but still counts against max_queue until it is delivered.
      const auto n = static_cast<std::ptrdiff_t>(std::min(queue_.size(), config_.max_batch));
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      in_flight_ = batch.size();
    }
    note_drops();
    if (!deliver(batch_body(batch))) return;
    delivered_.fetch_add(batch.size(), std::memory_order_relaxed);
    batch.clear();
    {
      std::lock_guard lock(mutex_);
      in_flight_ = 0;
      depth_.store(queue_.size(), std::memory_order_relaxed);
      if (queue_.empty()) idle_.notify_all();
    }
  }
}

bool WebhookSink::deliver(std::string body) {
  Request req = client_->make_request(std::move(body));
  auto backoff = std::chrono::milliseconds(config_.retry_min_ms);
  const auto backoff_max = std::chrono::milliseconds(config_.retry_max_ms);
  std::uint64_t failed_attempts = 0;
  while (!stopping_) {
    // Signed per attempt: a retry carries a fresh timestamp, so receivers can keep a tight
    // replay window however long the outage was.
    const std::string timestamp = std::to_string(unix_now_s());
    req.set(kTimestampHeader, timestamp);
    req.set(kSignatureHeader, webhook_signature(config_.secret, timestamp, req.body()));
    const Client::Outcome out = client_->post(req);
    if (!out.ec && out.status >= 200 && out.status < 300) {
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
                     {"error", out.ec ? out.ec.message() : "HTTP " + std::to_string(out.status)}});
    }
    note_drops();
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, backoff, [&] { return stopping_.load(); })) return false;
    backoff = std::min(backoff * 2, backoff_max);
  }
  return false;
}

void WebhookSink::note_drops() {
  const std::uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (dropped == dropped_logged_) return;
  ops::log_warn("webhook queue full; events dropped", {{"url", display_url_},
                                                       {"dropped", dropped - dropped_logged_},
                                                       {"max_queue", config_.max_queue}});
  dropped_logged_ = dropped;
}

}  // namespace waitroom::ops
