#include "config/server_config.hpp"

#include <arpa/inet.h>
#include <toml++/toml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/room_settings_codec.hpp"
#include "config/routes_config.hpp"
#include "ops/webhook_config.hpp"

namespace waitroom::config {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {

// Redis key prefixes: no braces (they would change a room's hash tag), colons or spaces.
constexpr const char* kKeyPrefixRule =
    "must be 1 to 64 characters without braces, colons or spaces";
bool is_valid_key_prefix(std::string_view p) {
  return !p.empty() && p.size() <= 64 && p.find_first_of("{}: \t\r\n") == std::string_view::npos;
}

core::Result<void> bad(std::string key, std::string why) {
  return fail(ErrorCode::bad_request, "config: " + key + ": " + why);
}

// Room tables are validated by the same JSON codec as the admin API.
json::value toml_to_json(const toml::node& node) {
  if (auto v = node.as_string()) return json::value(v->get());
  if (auto v = node.as_integer()) return json::value(v->get());
  if (auto v = node.as_floating_point()) return json::value(v->get());
  if (auto v = node.as_boolean()) return json::value(v->get());
  // Unquoted TOML dates and times: as the text they were, for the settings codec to judge.
  if (node.is_date_time() || node.is_date() || node.is_time()) {
    std::ostringstream text;
    node.visit([&](const auto& n) { text << n; });
    return json::value(text.str());
  }
  if (auto arr = node.as_array()) {
    json::array out;
    for (const auto& e : *arr) out.push_back(toml_to_json(e));
    return out;
  }
  if (auto tbl = node.as_table()) {
    json::object out;
    for (const auto& [k, v] : *tbl) out[std::string(k.str())] = toml_to_json(v);
    return out;
  }
  return nullptr;
}

template <class T>
core::Result<void> read_positive(const toml::node& node, const std::string& key, T& out,
                                 std::int64_t max) {
  auto v = node.value<std::int64_t>();
  if (!v || *v <= 0 || *v > max)
    return bad(key, "must be an integer between 1 and " + std::to_string(max));
  out = static_cast<T>(*v);
  return {};
}

core::Result<void> read_limits(const toml::table& tbl, Limits& limits) {
  for (const auto& [k, v] : tbl) {
    const std::string key = "limits." + std::string(k.str());
    core::Result<void> r;
    if (k == "body_limit_bytes")
      r = read_positive(v, key, limits.body_limit_bytes, 64 << 20);
    else if (k == "header_limit_bytes")
      r = read_positive(v, key, limits.header_limit_bytes, 1 << 20);
    else if (k == "header_timeout_s")
      r = read_positive(v, key, limits.header_timeout_s, 3600);
    else if (k == "body_timeout_s")
      r = read_positive(v, key, limits.body_timeout_s, 3600);
    else if (k == "max_connections")
      r = read_positive(v, key, limits.max_connections, 1 << 22);
    else if (k == "max_event_streams")
      r = read_positive(v, key, limits.max_event_streams, 1 << 22);
    else if (k == "event_heartbeat_s")
      r = read_positive(v, key, limits.event_heartbeat_s, 3600);
    else if (k == "shutdown_timeout_s")
      r = read_positive(v, key, limits.shutdown_timeout_s, 3600);
    else
      r = bad(key, "unknown key");
    if (!r) return r;
  }
  return {};
}

constexpr std::int64_t kMinHistoryIntervalMs = 50;
constexpr std::int64_t kMaxHistoryIntervalMs = 600'000;
// [testing] log_write_delay_ms: long enough to widen a crash window, short enough to stay a test.
constexpr std::int64_t kMaxLogWriteDelayMs = 5000;
constexpr std::int64_t kMaxSessionTimeoutS = 30 * 24 * 3600;
constexpr std::int64_t kMaxDashboardSessions = 100'000;
constexpr std::int64_t kMaxHistoryDays = 366;

core::Result<void> read_dashboard(const toml::table& tbl, DashboardConfig& d) {
  for (const auto& [k, v] : tbl) {
    const std::string key = "dashboard." + std::string(k.str());
    core::Result<void> r;
    if (k == "session_idle_timeout_s")
      r = read_positive(v, key, d.session_idle_timeout_s, kMaxSessionTimeoutS);
    else if (k == "session_lifetime_s")
      r = read_positive(v, key, d.session_lifetime_s, kMaxSessionTimeoutS);
    else if (k == "max_sessions")
      r = read_positive(v, key, d.max_sessions, kMaxDashboardSessions);
    else if (k == "history_days")
      r = read_positive(v, key, d.history_days, kMaxHistoryDays);
    else
      r = bad(key, "unknown key");
    if (!r) return r;
  }
  return {};
}

constexpr std::int64_t kMaxHstsMaxAgeS = 10LL * 365 * 24 * 3600;  // browsers cap it far lower

core::Result<void> read_tls(const toml::table& tbl, TlsConfig& tls) {
  for (const auto& [k, v] : tbl) {
    const std::string key = "tls." + std::string(k.str());
    if (k == "cert_file" || k == "key_file") {
      auto path = v.value<std::string>();
      if (!path || path->empty()) return bad(key, "must be the path of a PEM file");
      (k == "cert_file" ? tls.cert_file : tls.key_file) = *path;
    } else if (k == "hsts_max_age_s") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 0 || *n > kMaxHstsMaxAgeS)
        return bad(key,
                   "must be an integer from 0 (no header) to " + std::to_string(kMaxHstsMaxAgeS));
      tls.hsts_max_age_s = *n;
    } else if (k == "hsts_include_subdomains") {
      auto b = v.value<bool>();
      if (!b) return bad(key, "must be true or false");
      tls.hsts_include_subdomains = *b;
    } else {
      return bad(key, "unknown key");
    }
  }
  return {};
}

// The [tls] keys that only make sense together. Checked after the environment had its say.
core::Result<void> check_tls(const TlsConfig& tls) {
  if (!tls.cert_file.empty() && tls.key_file.empty())
    return bad("tls.key_file", "is required with tls.cert_file (the certificate's private key)");
  if (tls.cert_file.empty() && !tls.key_file.empty())
    return bad("tls.cert_file", "is required with tls.key_file (the certificate for the key)");
  if (!tls.enabled() && (tls.hsts_max_age_s > 0 || tls.hsts_include_subdomains))
    return bad("tls.hsts_max_age_s",
               "needs tls.cert_file and tls.key_file: HSTS is sent over HTTPS only");
  return {};
}

constexpr std::int64_t kMaxSmtpTimeoutMs = 300'000;

// Printable ASCII without spaces: a host name, an IP address, an EHLO name.
bool is_host_text(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](unsigned char c) {
    return c > ' ' && c < 0x7f && c != '/' && c != '<' && c != '>' && c != '@';
  });
}

// local@domain without what could break an SMTP command or a header. The SMTP client checks the
// full form (net::check_mail_address) before each mail; this catches the typical mistakes at start.
bool looks_like_address(std::string_view a) {
  const std::size_t at = a.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < a.size() &&
         a.find('@', at + 1) == std::string_view::npos &&
         std::ranges::none_of(a, [](unsigned char c) {
           return c <= ' ' || c >= 0x7f ||
                  std::string_view("<>()[],;:\\\"").find(c) != std::string_view::npos;
         });
}

// smtp.from: "Shop Queue <queue@shop.example>", "\"Shop Queue\" <queue@...>" or the address alone.
bool parse_sender(std::string_view text, SmtpConfig& smtp) {
  const auto trim = [](std::string_view t) {
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    return t;
  };
  text = trim(text);
  std::string_view name;
  std::string_view address = text;
  if (text.ends_with('>')) {
    const std::size_t open = text.rfind('<');
    if (open == std::string_view::npos) return false;
    name = trim(text.substr(0, open));
    address = text.substr(open + 1, text.size() - open - 2);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
      name = name.substr(1, name.size() - 2);
  }
  if (!looks_like_address(address) ||
      std::ranges::any_of(name, [](unsigned char c) { return c < ' ' || c == 0x7f; }) ||
      name.find_first_of("<>\"") != std::string_view::npos)
    return false;
  smtp.from_address = address;
  smtp.from_name = name;
  return true;
}

}  // namespace

std::vector<std::string> PushConfig::default_push_hosts() {
  return {"fcm.googleapis.com", "updates.push.services.mozilla.com", "*.push.apple.com",
          "*.notify.windows.com"};
}

namespace {

core::Result<void> read_smtp(const toml::table& tbl, SmtpConfig& smtp) {
  for (const auto& [k, v] : tbl) {
    const std::string key = "smtp." + std::string(k.str());
    if (k == "port") {
      if (auto r = read_positive(v, key, smtp.port, 65535); !r) return r;
    } else if (k == "timeout_ms") {
      if (auto r = read_positive(v, key, smtp.timeout_ms, kMaxSmtpTimeoutMs); !r) return r;
    } else if (k == "implicit_tls") {
      auto b = v.value<bool>();
      if (!b) return bad(key, "must be true or false");
      smtp.implicit_tls = *b;
    } else {
      auto text = v.value<std::string>();
      if (k == "host") {
        if (!text || !is_host_text(*text))
          return bad(key, "must be a host name or an IP address such as \"smtp.example.com\"");
        smtp.host = *text;
      } else if (k == "starttls") {
        if (!text || (*text != "required" && *text != "opportunistic" && *text != "off"))
          return bad(key, "must be \"required\", \"opportunistic\" or \"off\"");
        smtp.starttls = *text == "required"        ? SmtpStartTls::required
                        : *text == "opportunistic" ? SmtpStartTls::opportunistic
                                                   : SmtpStartTls::off;
      } else if (k == "username") {
        if (!text || text->empty() || text->find('\0') != std::string::npos)
          return bad(key, "must be a non-empty string");
        smtp.username = *text;
      } else if (k == "password_file" || k == "ca_file") {
        if (!text || text->empty()) return bad(key, "must be the path of a file");
        (k == "password_file" ? smtp.password_file : smtp.ca_file) = *text;
      } else if (k == "from") {
        if (!text || !parse_sender(*text, smtp))
          return bad(key,
                     "must be an address or \"Name <address>\", such as \"Shop Queue "
                     "<queue@shop.example>\"");
        smtp.from = *text;
      } else if (k == "helo") {
        if (!text || !is_host_text(*text))
          return bad(key, "must be a host name without spaces, such as \"queue.example.com\"");
        smtp.helo = *text;
      } else {
        return bad(key, "unknown key");
      }
    }
  }
  if (smtp.host.empty()) return bad("smtp.host", "is required (the mail server)");
  if (smtp.from.empty()) return bad("smtp.from", "is required (the sender of visitors' mails)");
  return {};
}

core::Result<void> read_push(const toml::table& tbl, PushConfig& push) {
  for (const auto& [k, v] : tbl) {
    const std::string key = "push." + std::string(k.str());
    if (k == "timeout_ms") {
      if (auto r = read_positive(v, key, push.timeout_ms, kMaxSmtpTimeoutMs); !r) return r;
    } else if (k == "allowed_hosts") {
      const toml::array* list = v.as_array();
      if (!list || list->empty())
        return bad(key, "must be a non-empty list of host names, such as [\"fcm.googleapis.com\"]");
      push.allowed_hosts.clear();
      for (const auto& item : *list) {
        auto host = item.value<std::string>();
        const std::string_view name =
            host ? std::string_view(*host).substr(host->starts_with("*.") ? 2 : 0)
                 : std::string_view{};
        if (!host || !is_host_text(name))
          return bad(key, "must list host names (\"*.example.com\" for its subdomains)");
        push.allowed_hosts.push_back(*host);
      }
    } else {
      auto text = v.value<std::string>();
      if (k == "subject") {
        if (!text || !(text->starts_with("mailto:") || text->starts_with("https://")) ||
            text->find_first_of(" \r\n") != std::string::npos)
          return bad(key, "must be a mailto: or https: URL where push services can reach you");
        push.subject = *text;
      } else if (k == "ca_file") {
        if (!text || text->empty()) return bad(key, "must be the path of a file");
        push.ca_file = *text;
      } else {
        return bad(key, "unknown key");
      }
    }
  }
  if (push.subject.empty())
    return bad("push.subject", "is required (a mailto: or https: URL push services may use)");
  return {};
}

core::Result<void> read_file(const std::filesystem::path& file, ServerConfig& cfg) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config: " << file.string() << ":" << e.source().begin.line << ":"
        << e.source().begin.column << ": " << e.description();
    return fail(ErrorCode::bad_request, msg.str());
  }
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    core::Result<void> r;
    if (key == "aws_credentials") {
      const toml::array* list = v.as_array();
      if (!list) return bad(key, "must be an array of {access_key_id, secret_access_key} tables");
      for (const auto& item : *list) {
        const toml::table* t = item.as_table();
        auto id = t ? (*t)["access_key_id"].value<std::string>() : std::nullopt;
        auto secret = t ? (*t)["secret_access_key"].value<std::string>() : std::nullopt;
        auto role = t ? (*t)["role"].value<std::string>() : std::nullopt;
        if (!id || !secret || id->empty() || secret->size() < 16 ||
            t->size() != (t->contains("role") ? 3u : 2u))
          return bad(key,
                     "each entry needs exactly access_key_id and secret_access_key (at least 16 "
                     "characters), and may have a role");
        if (t->contains("role") &&
            (!role || (*role != "viewer" && *role != "operator" && *role != "admin")))
          return bad(key, "role must be \"viewer\", \"operator\" or \"admin\"");
        cfg.aws_credentials.emplace_back(*id, *secret);
        if (role) cfg.aws_credential_roles[*id] = *role;
      }
    } else if (key == "gate_path") {
      auto p = v.value<std::string>();
      if (!p || p->size() < 2 || p->front() != '/' || p->back() == '/' ||
          p->find_first_of("{}?# ") != std::string::npos)
        return bad(key, "must be a path such as \"/gate/v1/check\" (leading '/', no trailing '/')");
      cfg.gate_path = *p;
    } else if (key == "demo_room") {
      auto r = v.value<std::string>();
      if (!r || !core::is_valid_room_name(*r)) return bad(key, "must be a room name");
      cfg.demo_room = *r;
    } else if (key == "default_room") {
      auto r = v.value<std::string>();
      if (!r || !core::is_valid_room_name(*r)) return bad(key, "must be a room name");
      cfg.default_room = *r;
    } else if (key == "theme_dir") {
      auto d = v.value<std::string>();
      if (!d || d->empty()) return bad(key, "must be the path of a theme directory");
      cfg.theme_dir = *d;
    } else if (key == "public_url") {
      auto u = v.value<std::string>();
      if (!u || !(u->starts_with("http://") || u->starts_with("https://")) || u->back() == '/' ||
          u->find_first_of("?# ") != std::string::npos)
        return bad(key,
                   "must be an http:// or https:// URL without a trailing '/', such as "
                   "\"https://queue.example.com\"");
      cfg.public_url = *u;
    } else if (key == "aws_prefix") {
      auto p = v.value<std::string>();
      if (!p || p->size() < 2 || p->front() != '/' || p->back() == '/' ||
          p->find_first_of("{}?# ") != std::string::npos)
        return bad(key, "must be a path such as \"/aws\" (leading '/', no trailing '/')");
      cfg.aws_prefix = *p;
    } else if (key == "listen" || key == "data_dir" || key == "durability" ||
               key == "admin_key_file") {
      auto s = v.value<std::string>();
      if (!s) return bad(key, "must be a string");
      if (key == "listen") {
        if (auto l = parse_listen(*s); !l) return bad(key, l.error().detail);
        cfg.listen = *s;
      } else if (key == "data_dir") {
        cfg.data_dir = *s;
      } else if (key == "durability") {
        auto d = parse_durability(*s);
        if (!d) return bad(key, d.error().detail);
        cfg.durability = *d;
      } else {
        cfg.admin_key_file = *s;
      }
    } else if (key == "store") {
      auto k = v.value<std::string>();
      if (!k || (*k != "embedded" && *k != "redis"))
        return bad(key, "must be \"embedded\" or \"redis\"");
      cfg.store = *k == "redis" ? StoreKind::redis : StoreKind::embedded;
    } else if (key == "redis_url") {
      auto u = v.value<std::string>();
      if (!u || !(u->starts_with("redis://") || u->starts_with("rediss://")))
        return bad(key, "must be a redis:// or rediss:// URL such as \"redis://127.0.0.1:6379/0\"");
      cfg.redis.url = *u;
    } else if (key == "redis_tls_ca_file") {
      auto f = v.value<std::string>();
      if (!f || f->empty()) return bad(key, "must be the path of a PEM CA file");
      cfg.redis.tls_ca_file = *f;
    } else if (key == "redis_key_prefix") {
      auto p = v.value<std::string>();
      if (!p || !is_valid_key_prefix(*p)) return bad(key, kKeyPrefixRule);
      cfg.redis.key_prefix = *p;
    } else if (key == "redis_cluster") {
      auto b = v.value<bool>();
      if (!b) return bad(key, "must be true or false");
      cfg.redis.cluster = *b;
    } else if (key == "redis_wait_replicas") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 0 || *n > 16) return bad(key, "must be an integer from 0 (no wait) to 16");
      cfg.redis.wait_replicas = static_cast<int>(*n);
    } else if (key == "compact_after_mb") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 0 || *n > 1'048'576)
        return bad(key, "must be an integer from 0 (only when asked) to 1048576 MiB");
      cfg.compact_after_mb = static_cast<std::uint64_t>(*n);
    } else if (key == "webhook_max_lag_mb") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 1 || *n > 65'536) return bad(key, "must be an integer from 1 to 65536 MiB");
      cfg.webhook_max_lag_mb = static_cast<std::uint64_t>(*n);
    } else if (key == "keep_events") {
      auto b = v.value<bool>();
      if (!b) return bad(key, "must be true or false");
      cfg.keep_events = *b;
    } else if (key == "threads") {
      auto n = v.value<std::int64_t>();
      if (!n || *n < 0 || *n > 256)
        return bad(key, "must be an integer from 0 (one per core) to 256");
      cfg.threads = static_cast<unsigned>(*n);
    } else if (key == "cookie_secure") {
      auto b = v.value<bool>();
      if (!b) return bad(key, "must be true or false");
      cfg.cookie_secure = *b;
    } else if (key == "webhooks") {
      if (!v.is_array()) return bad(key, "must be an array of tables ([[webhooks]])");
      auto hooks = ops::parse_webhooks(v.as_array());
      if (!hooks) return std::unexpected(hooks.error());
      cfg.webhooks = std::move(*hooks);
    } else if (key == "routes") {
      if (!v.is_array()) return bad(key, "must be an array of tables ([[routes]])");
      auto routes = parse_routes(*v.as_array());
      if (!routes) return std::unexpected(routes.error());
      cfg.routes = std::move(*routes);
    } else if (key == "testing") {
      const toml::table* t = v.as_table();
      if (!t) return bad(key, "must be a table");
      for (const auto& [tk, tv] : *t) {
        if (tk == "history_interval_ms") {
          r = read_positive(tv, "testing.history_interval_ms", cfg.dashboard.history_interval_ms,
                            kMaxHistoryIntervalMs);
          if (!r) return r;
          if (cfg.dashboard.history_interval_ms < kMinHistoryIntervalMs)
            return bad("testing.history_interval_ms",
                       "must be at least " + std::to_string(kMinHistoryIntervalMs));
          continue;
        }
        if (tk == "log_write_delay_ms") {
          r = read_positive(tv, "testing.log_write_delay_ms", cfg.log_write_delay_ms,
                            kMaxLogWriteDelayMs);
          if (!r) return r;
          continue;
        }
        auto b = tv.value<bool>();
        if (tk != "manual_clock") return bad("testing." + std::string(tk.str()), "unknown key");
        if (!b) return bad("testing.manual_clock", "must be true or false");
        cfg.manual_clock = *b;
      }
    } else if (key == "tls") {
      if (!v.is_table()) return bad(key, "must be a table");
      r = read_tls(*v.as_table(), cfg.tls);
    } else if (key == "smtp") {
      if (!v.is_table()) return bad(key, "must be a table");
      r = read_smtp(*v.as_table(), cfg.smtp.emplace());
    } else if (key == "push") {
      if (!v.is_table()) return bad(key, "must be a table");
      r = read_push(*v.as_table(), cfg.push.emplace());
    } else if (key == "dashboard") {
      if (!v.is_table()) return bad(key, "must be a table");
      r = read_dashboard(*v.as_table(), cfg.dashboard);
    } else if (key == "limits") {
      if (!v.is_table()) return bad(key, "must be a table");
      r = read_limits(*v.as_table(), cfg.limits);
    } else if (key == "rooms") {
      if (!v.is_table()) return bad(key, "must be a table of rooms: [rooms.NAME]");
      for (const auto& [name, room] : *v.as_table()) {
        const std::string room_key = "rooms." + std::string(name.str());
        if (!core::is_valid_room_name(name.str()))
          return bad(room_key, "room names are 1-64 of A-Z a-z 0-9 _ - (not starting with _ or -)");
        if (!room.is_table()) return bad(room_key, "must be a table");
        json::object fields = toml_to_json(room).as_object();
        // theme_dir is the page's, not a room setting: the admin API never sees it.
        if (const json::value* theme = fields.if_contains("theme_dir")) {
          if (!theme->is_string() || theme->as_string().empty())
            return bad(room_key + ".theme_dir", "must be the path of a theme directory");
          cfg.room_theme_dirs.emplace_back(std::string(name.str()),
                                           std::string(theme->as_string()));
          fields.erase("theme_dir");
        }
        auto settings = apply_room_settings(fields, core::RoomSettings{});
        if (!settings) return bad(room_key, settings.error().detail);
        cfg.rooms.emplace_back(std::string(name.str()), *settings);
        cfg.room_sections.emplace_back(std::string(name.str()), std::move(fields));
      }
    } else {
      r = bad(key, "unknown key");
    }
    if (!r) return r;
  }
  return {};
}

core::Result<void> read_admin_key(ServerConfig& cfg) {
  if (const char* env = std::getenv("WAITROOM_ADMIN_KEY"); env && *env) {
    cfg.admin_key = env;
  } else if (!cfg.admin_key_file.empty()) {
    std::ifstream in(cfg.admin_key_file);
    if (!in) return bad("admin_key_file", "cannot read " + cfg.admin_key_file.string());
    std::getline(in, cfg.admin_key);
    while (!cfg.admin_key.empty() && std::isspace(static_cast<unsigned char>(cfg.admin_key.back())))
      cfg.admin_key.pop_back();
    if (cfg.admin_key.empty())
      return bad("admin_key_file", cfg.admin_key_file.string() + " is empty");
  }
  // A short key can be guessed; refuse it rather than run an admin API that is easy to take over.
  if (!cfg.admin_key.empty() && cfg.admin_key.size() < 16)
    return bad("admin key", "must be at least 16 characters");
  return {};
}

// [smtp]'s password: WAITROOM_SMTP_PASSWORD, else the first line of password_file (as the admin
// key's). Checked after both had their say: AUTH needs a username and a password, and TLS.
core::Result<void> read_smtp_password(SmtpConfig& smtp) {
  if (const char* env = std::getenv("WAITROOM_SMTP_PASSWORD"); env && *env) {
    smtp.password = env;
  } else if (!smtp.password_file.empty()) {
    std::ifstream in(smtp.password_file);
    if (!in) return bad("smtp.password_file", "cannot read " + smtp.password_file.string());
    std::getline(in, smtp.password);
    while (!smtp.password.empty() && std::isspace(static_cast<unsigned char>(smtp.password.back())))
      smtp.password.pop_back();
    if (smtp.password.empty())
      return bad("smtp.password_file", smtp.password_file.string() + " is empty");
  }
  if (smtp.username.empty() && !smtp.password.empty())
    return bad("smtp.username",
               "is required with a password (password_file or WAITROOM_SMTP_PASSWORD)");
  if (!smtp.username.empty() && smtp.password.empty())
    return bad("smtp.password_file", "is required with smtp.username (or WAITROOM_SMTP_PASSWORD)");
  if (!smtp.username.empty() && smtp.starttls == SmtpStartTls::off && !smtp.implicit_tls)
    return bad("smtp.starttls",
               "\"off\" would send the password in the clear: use \"required\" or implicit_tls");
  return {};
}

}  // namespace

core::Result<Durability> parse_durability(std::string_view text) {
  if (text == "fsync") return Durability::fsync;
  if (text == "relaxed") return Durability::relaxed;
  return fail(ErrorCode::bad_request, "must be \"fsync\" or \"relaxed\"");
}

core::Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail(ErrorCode::bad_request, "listen must be HOST:PORT");
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  unsigned char addr[16];
  if (::inet_pton(AF_INET, host.c_str(), addr) != 1 &&
      ::inet_pton(AF_INET6, host.c_str(), addr) != 1)
    return fail(ErrorCode::bad_request, "listen host must be an IP address (or localhost)");
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return fail(ErrorCode::bad_request, "listen port must be 0-65535");
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

std::string strict_transport_security(const TlsConfig& tls) {
  if (!tls.enabled() || tls.hsts_max_age_s == 0) return {};
  std::string value = "max-age=" + std::to_string(tls.hsts_max_age_s);
  if (tls.hsts_include_subdomains) value += "; includeSubDomains";
  return value;
}

bool is_loopback(std::string_view host) {
  unsigned char addr[16];
  const std::string h(host);
  if (::inet_pton(AF_INET, h.c_str(), addr) == 1) return addr[0] == 127;
  return h == "::1";
}

core::Result<ServerConfig> load_config(const std::filesystem::path& file) {
  ServerConfig cfg;
  if (!file.empty()) {
    if (auto r = read_file(file, cfg); !r) return std::unexpected(r.error());
  }
  if (const char* v = std::getenv("WAITROOM_LISTEN"); v && *v) {
    if (!parse_listen(v))
      return std::unexpected(bad("WAITROOM_LISTEN", "must be HOST:PORT").error());
    cfg.listen = v;
  }
  if (const char* v = std::getenv("WAITROOM_DATA_DIR"); v && *v) cfg.data_dir = v;
  if (const char* v = std::getenv("WAITROOM_DURABILITY"); v && *v) {
    auto d = parse_durability(v);
    if (!d) return std::unexpected(bad("WAITROOM_DURABILITY", d.error().detail).error());
    cfg.durability = *d;
  }
  if (const char* v = std::getenv("WAITROOM_STORE"); v && *v) {
    if (std::string_view(v) != "embedded" && std::string_view(v) != "redis")
      return std::unexpected(bad("WAITROOM_STORE", "must be \"embedded\" or \"redis\"").error());
    cfg.store = std::string_view(v) == "redis" ? StoreKind::redis : StoreKind::embedded;
  }
  // The URL may carry Redis's password: the environment keeps it out of the config file.
  if (const char* v = std::getenv("WAITROOM_REDIS_URL"); v && *v) {
    if (!std::string_view(v).starts_with("redis://") &&
        !std::string_view(v).starts_with("rediss://"))
      return std::unexpected(
          bad("WAITROOM_REDIS_URL", "must be a redis:// or rediss:// URL").error());
    cfg.redis.url = v;
  }
  if (const char* v = std::getenv("WAITROOM_REDIS_KEY_PREFIX"); v && *v) {
    if (!is_valid_key_prefix(v))
      return std::unexpected(bad("WAITROOM_REDIS_KEY_PREFIX", kKeyPrefixRule).error());
    cfg.redis.key_prefix = v;
  }
  if (const char* v = std::getenv("WAITROOM_REDIS_CLUSTER"); v && *v) {
    if (std::string_view(v) != "0" && std::string_view(v) != "1")
      return std::unexpected(bad("WAITROOM_REDIS_CLUSTER", "must be 0 or 1").error());
    cfg.redis.cluster = std::string_view(v) == "1";
  }
  if (const char* v = std::getenv("WAITROOM_REDIS_WAIT_REPLICAS"); v && *v) {
    int n = -1;
    auto [end, ec] = std::from_chars(v, v + std::strlen(v), n);
    if (ec != std::errc{} || *end != '\0' || n < 0 || n > 16)
      return std::unexpected(
          bad("WAITROOM_REDIS_WAIT_REPLICAS", "must be an integer from 0 (no wait) to 16").error());
    cfg.redis.wait_replicas = n;
  }
  if (const char* v = std::getenv("WAITROOM_TLS_CERT_FILE"); v && *v) cfg.tls.cert_file = v;
  if (const char* v = std::getenv("WAITROOM_TLS_KEY_FILE"); v && *v) cfg.tls.key_file = v;
  if (auto r = check_tls(cfg.tls); !r) return std::unexpected(r.error());
  // Under TLS every visitor arrives over HTTPS: cookies that could leak over plain HTTP make no
  // sense, so they are Secure whatever cookie_secure says.
  if (cfg.tls.enabled()) cfg.cookie_secure = true;
  if (auto r = read_admin_key(cfg); !r) return std::unexpected(r.error());
  if (cfg.smtp) {
    if (auto r = read_smtp_password(*cfg.smtp); !r) return std::unexpected(r.error());
    // A mail's link back to the visitor's place must work from any device.
    if (cfg.public_url.empty())
      return std::unexpected(core::Error{
          ErrorCode::bad_request,
          "public_url: is required with [smtp] (mails link back to the visitor's place, where "
          "visitors reach this server)"});
  }
  const char* aws_id = std::getenv("WAITROOM_AWS_ACCESS_KEY_ID");
  const char* aws_secret = std::getenv("WAITROOM_AWS_SECRET_ACCESS_KEY");
  if (aws_id && *aws_id && aws_secret && *aws_secret) {
    if (std::string_view(aws_secret).size() < 16)
      return std::unexpected(
          bad("WAITROOM_AWS_SECRET_ACCESS_KEY", "must be at least 16 characters").error());
    cfg.aws_credentials.emplace_back(aws_id, aws_secret);
  }
  return cfg;
}

std::vector<std::string> settings_needing_restart(const ServerConfig& a, const ServerConfig& b) {
  std::vector<std::string> out;
  auto note = [&out](bool same, const char* key) {
    if (!same) out.emplace_back(key);
  };
  note(a.listen == b.listen, "listen");
  note(a.data_dir == b.data_dir, "data_dir");
  note(a.durability == b.durability, "durability");
  note(a.compact_after_mb == b.compact_after_mb, "compact_after_mb");
  note(a.webhook_max_lag_mb == b.webhook_max_lag_mb, "webhook_max_lag_mb");
  note(a.keep_events == b.keep_events, "keep_events");
  note(a.store == b.store, "store");
  note(a.redis.url == b.redis.url, "redis_url");
  note(a.redis.tls_ca_file == b.redis.tls_ca_file, "redis_tls_ca_file");
  note(a.redis.key_prefix == b.redis.key_prefix, "redis_key_prefix");
  note(a.redis.cluster == b.redis.cluster, "redis_cluster");
  note(a.redis.wait_replicas == b.redis.wait_replicas, "redis_wait_replicas");
  note(a.threads == b.threads, "threads");
  note(a.admin_key == b.admin_key, "admin_key");
  note(a.cookie_secure == b.cookie_secure, "cookie_secure");
  note(a.aws_prefix == b.aws_prefix, "aws_prefix");
  note(a.gate_path == b.gate_path, "gate_path");
  note(a.public_url == b.public_url, "public_url");
  note(a.demo_room == b.demo_room, "demo_room");
  note(a.default_room == b.default_room, "default_room");
  note(a.theme_dir == b.theme_dir && a.room_theme_dirs == b.room_theme_dirs, "theme_dir");
  note(a.aws_credentials == b.aws_credentials && a.aws_credential_roles == b.aws_credential_roles,
       "aws_credentials");
  note(a.limits == b.limits, "limits");
  note(a.dashboard == b.dashboard, "dashboard");
  note(a.webhooks == b.webhooks, "webhooks");
  note(a.manual_clock == b.manual_clock && a.log_write_delay_ms == b.log_write_delay_ms, "testing");
  note(a.routes == b.routes, "routes");
  note(a.tls == b.tls, "tls");
  note(a.smtp == b.smtp, "smtp");
  note(a.push == b.push, "push");
  return out;
}

}  // namespace waitroom::config
