#pragma once
// waitroom.toml: the server's settings and its initial rooms. Every key is documented in
// docs/configuration.md; WAITROOM_* environment variables override the file, flags override both.
#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/proxy_route.hpp"
#include "core/error.hpp"
#include "core/room_settings.hpp"
#include "ops/webhook_sink.hpp"

namespace waitroom::config {

enum class Durability { fsync, relaxed };

struct Limits {
  std::size_t body_limit_bytes = 16 * 1024;
  std::size_t header_limit_bytes = 8 * 1024;
  std::int64_t header_timeout_s = 10;  // whole request head must arrive within this
  std::int64_t body_timeout_s = 30;
  std::size_t max_connections = 20000;
  // Server-Sent Events streams (GET …/tickets/{ticket}/events) open at once in this process;
  // more are refused with 503 + Retry-After (the page then polls). They count as connections too.
  std::size_t max_event_streams = 50000;
  // Seconds between comment lines on an idle stream: for proxies, and as the visitor's presence.
  std::int64_t event_heartbeat_s = 15;
  // SIGTERM: stop accepting, let requests in flight finish for up to this long, then stop.
  std::int64_t shutdown_timeout_s = 10;

  bool operator==(const Limits&) const = default;
};

// [dashboard]: the operator's web dashboard at /admin (docs/dashboard.md).
struct DashboardConfig {
  std::int64_t session_idle_timeout_s = 8 * 3600;  // a session unused this long ends
  std::int64_t session_lifetime_s = 24 * 3600;     // and every session ends this long after sign-in
  std::size_t max_sessions = 100;                  // signed-in sessions at once (oldest use goes)
  // How often the charts' history samples every room. Only [testing] history_interval_ms
  // changes it (the charts cover an hour at the default).
  std::int64_t history_interval_ms = 10'000;
  // How many days of per-minute history are kept (besides the current day), in the data dir or
  // in Redis (docs/dashboard.md).
  int history_days = 7;

  bool operator==(const DashboardConfig&) const = default;
};

// [tls]: HTTPS on Waitroom's own listener (docs/configuration.md). Off while cert_file is empty.
struct TlsConfig {
  std::filesystem::path cert_file;  // PEM: the certificate, then any intermediates
  std::filesystem::path key_file;   // PEM: its private key
  // Strict-Transport-Security on every answer: how long browsers use only HTTPS. 0: no header.
  std::int64_t hsts_max_age_s = 0;
  bool hsts_include_subdomains = false;
  bool enabled() const { return !cert_file.empty(); }
  bool operator==(const TlsConfig&) const = default;
};

// The Strict-Transport-Security value [tls] asks for; empty when none (no TLS, or max age 0).
std::string strict_transport_security(const TlsConfig& tls);

enum class StoreKind { embedded, redis };

struct RedisConfig {
  // redis://[[user]:password@]host[:port][/db], or rediss:// for TLS (store = "redis").
  std::string url = "redis://127.0.0.1:6379/0";
  std::filesystem::path tls_ca_file;  // rediss://: the CA to check Redis's certificate by
  // The first part of every key and channel, so several deployments can share one Redis.
  std::string key_prefix = "waitroom";
  // A Redis Cluster: with one seed in the URL (several seeds mean a cluster anyway).
  bool cluster = false;
  // Each commit waits until this many replicas hold it (WAIT) before it is acknowledged.
  int wait_replicas = 0;
};

// [smtp]: the mail server visitors' notifications ("it's almost your turn") go through
// (docs/configuration.md). Absent: no mail is sent.
enum class SmtpStartTls { required, opportunistic, off };

struct SmtpConfig {
  std::string host;  // a host name or an IP address
  std::uint16_t port = 587;
  SmtpStartTls starttls = SmtpStartTls::required;
  bool implicit_tls = false;  // TLS from the first byte (port 465); starttls does not apply
  std::string username;       // empty: no AUTH
  std::filesystem::path password_file;
  std::string password;  // from WAITROOM_SMTP_PASSWORD or password_file; never logged
  std::string from;      // the sender as written: "Name <address>" or "address"
  std::string from_address;
  std::string from_name;          // empty when `from` has none
  std::string helo;               // the name EHLO gives; empty: the machine's host name
  std::filesystem::path ca_file;  // the CAs to check the server's certificate by; empty: system's
  std::int64_t timeout_ms = 10'000;  // one mail: lookup, connect, TLS and every command

  bool operator==(const SmtpConfig&) const = default;
};

// [push]: Web Push to visitors' browsers (docs/notifications.md). Absent: no push. The VAPID
// keys are in the data dir (vapid/), rotated with `waitroom keys rotate --vapid`.
struct PushConfig {
  // VAPID's contact for the push services' operators: "mailto:ops@example.com" or an https URL.
  std::string subject;
  // The push services' hosts messages may go to ("*.example.com": its subdomains); a visitor's
  // subscription naming any other is refused, so visitors cannot make the server POST elsewhere.
  std::vector<std::string> allowed_hosts = default_push_hosts();
  std::filesystem::path ca_file;  // CAs to check push services by; empty: the system's
  std::int64_t timeout_ms = 10'000;

  // The browsers' push services: Chrome and Edge (FCM), Firefox (Mozilla), Safari (Apple),
  // Windows (WNS).
  static std::vector<std::string> default_push_hosts();
  bool operator==(const PushConfig&) const = default;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::filesystem::path data_dir = "data";
  Durability durability = Durability::fsync;
  // The embedded log is compacted (docs/operations.md) each time it grew by this many MiB since
  // the last compaction; 0: only on POST /admin/v1/compact.
  std::uint64_t compact_after_mb = 64;
  // The event feed (docs/events.md): each room keeps at most this many MiB of events its webhooks
  // have not acknowledged (the oldest go first, counted); with no webhook, the newest, for
  // GET /admin/v1/events.
  std::uint64_t webhook_max_lag_mb = 64;
  // Record the rooms' events even without a webhook, for GET /admin/v1/events. Always on with a
  // webhook.
  bool keep_events = false;
  // Where rooms live: "embedded" (this node's data dir) or "redis" (shared by every node that
  // names the same Redis; docs/scaling.md).
  StoreKind store = StoreKind::embedded;
  RedisConfig redis;
  unsigned threads = 0;   // 0: one per core
  std::string admin_key;  // from WAITROOM_ADMIN_KEY or admin_key_file; never logged
  std::filesystem::path admin_key_file;
  bool cookie_secure = false;  // always true under [tls]
  TlsConfig tls;
  std::string aws_prefix = "/aws";           // where the AWS-compatible API answers
  std::string gate_path = "/gate/v1/check";  // the forward-auth endpoint (docs/integrations.md)
  // Where visitors reach Waitroom, for links and redirects from other hosts (a gate in front of
  // another site); empty: relative links, for a proxy that serves both on one host.
  std::string public_url;
  // Serve the protected demo page /demo/shop for this room (deploy/demo.toml); empty: no demo.
  std::string demo_room;
  // The room `/` sends visitors to; empty: `/` answers 404.
  std::string default_room;
  // The waiting-room page's theme for every room (docs/page.md); empty: the built-in page.
  std::filesystem::path theme_dir;
  // [rooms.NAME] theme_dir: a room's own theme, over theme_dir. Themes are server files, so they
  // are set in the config only, never through the admin API.
  std::vector<std::pair<std::string, std::filesystem::path>> room_theme_dirs;
  // Access keys AWS's signed callers (control panel, inlet functions) use on the private API.
  std::vector<std::pair<std::string, std::string>> aws_credentials;  // access key id, secret
  // Each access key's role on the private API ("viewer", "operator", "admin"; absent: admin, as
  // before roles existed). docs/security.md, "Operator tokens and roles".
  std::map<std::string, std::string> aws_credential_roles;
  Limits limits;
  DashboardConfig dashboard;
  // [[webhooks]]: where audit events are delivered (docs/events.md).
  std::vector<ops::WebhookConfig> webhooks;
  // [smtp]: where visitors' notification mails go out; std::nullopt: no mail is sent.
  std::optional<SmtpConfig> smtp;
  // [push]: Web Push to visitors' browsers; std::nullopt: none.
  std::optional<PushConfig> push;
  // Test-only: the clock stands still and moves by admin calls (/admin/v1/testing/clock), so
  // conformance tests can run minutes of admissions in seconds. Refused unless listening on
  // loopback, so a production config cannot turn it on.
  bool manual_clock = false;
  // Test-only: the embedded log waits this long before writing each batch (crash tests use it to
  // widen the window in which a change is not yet durable). Loopback only, as manual_clock.
  std::int64_t log_write_delay_ms = 0;
  // [[routes]]: the built-in reverse proxy (docs/configuration.md). Waitroom's own routes win.
  std::vector<ProxyRoute> routes;
  // [rooms.NAME]: each room's settings as the file makes them from the defaults (a new room's).
  std::vector<std::pair<std::string, core::RoomSettings>> rooms;
  // The same sections as written (less theme_dir): on start and SIGHUP these keys are applied to
  // the running rooms (app/config_reload.hpp); keys a section leaves out stay as they are.
  std::vector<std::pair<std::string, boost::json::object>> room_sections;
};

// Reads `file` (empty path: defaults only), then applies environment overrides and reads the
// admin key. Errors name the key and the reason.
core::Result<ServerConfig> load_config(const std::filesystem::path& file);

// The settings that differ between `before` and `after` and that a running server cannot take
// (it reads them once at start): SIGHUP names them, and a restart applies them. Rooms are not
// among them: SIGHUP applies those.
std::vector<std::string> settings_needing_restart(const ServerConfig& before,
                                                  const ServerConfig& after);

core::Result<Durability> parse_durability(std::string_view text);
core::Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);
bool is_loopback(std::string_view host);

}  // namespace waitroom::config
