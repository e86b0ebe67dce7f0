#include "config/server_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/temp_dir.hpp"

namespace waitroom::config {
namespace {

core::Result<ServerConfig> load(const std::string& toml) {
  waitroom::testing::TempDir dir;
  const auto file = dir.path() / "waitroom.toml";
  std::ofstream(file) << toml;
  return load_config(file);
}

TEST(ServerConfig, ReadsRoomsLimitsAndAwsSettings) {
  auto cfg = load(R"(
listen = "localhost:9000"
threads = 0
aws_prefix = "/vwr"
[limits]
header_timeout_s = 2
max_event_streams = 7
event_heartbeat_s = 3
shutdown_timeout_s = 30
[rooms.shop]
pass_lifetime_s = 300
algorithm = "RS256"
[[aws_credentials]]
access_key_id = "AKID1"
secret_access_key = "0123456789abcdef0123"
)");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_EQ(cfg->aws_prefix, "/vwr");
  EXPECT_EQ(cfg->limits.header_timeout_s, 2);
  EXPECT_EQ(cfg->limits.max_event_streams, 7u);
  EXPECT_EQ(cfg->limits.event_heartbeat_s, 3);
  EXPECT_EQ(ServerConfig{}.limits.max_event_streams, 50000u);
  EXPECT_EQ(ServerConfig{}.limits.event_heartbeat_s, 15);
  EXPECT_EQ(cfg->limits.shutdown_timeout_s, 30);
  EXPECT_EQ(ServerConfig{}.limits.shutdown_timeout_s, 10);
  ASSERT_EQ(cfg->rooms.size(), 1u);
  EXPECT_EQ(cfg->rooms[0].first, "shop");
  EXPECT_EQ(cfg->rooms[0].second.algorithm, "RS256");
  ASSERT_EQ(cfg->aws_credentials.size(), 1u);
  EXPECT_EQ(cfg->aws_credentials[0].first, "AKID1");
}

TEST(ServerConfig, ReadsGateAdmissionAndTestingKeys) {
  auto cfg = load(R"(
gate_path = "/auth/check"
public_url = "https://queue.example.com"
[testing]
manual_clock = true
[rooms.sale]
queueing = "random"
[rooms.sale.admission]
mode = "rate"
rate_per_minute = 600
start = 2026-12-01T10:00:00Z
)");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_EQ(cfg->gate_path, "/auth/check");
  EXPECT_EQ(cfg->public_url, "https://queue.example.com");
  EXPECT_TRUE(cfg->manual_clock);
  ASSERT_EQ(cfg->rooms.size(), 1u);
  const core::RoomSettings& s = cfg->rooms[0].second;
  EXPECT_EQ(s.queueing, core::Queueing::random);
  EXPECT_EQ(s.admission.mode, core::AdmissionMode::rate);
  EXPECT_EQ(s.admission.rate_per_minute, 600);
  EXPECT_EQ(s.admission.start_s, 1796119200);
}

TEST(ServerConfig, ARoomsInvitationsTakeAJwksUrl) {
  auto cfg = load(R"(
[rooms.sale]
invite_only = true
[rooms.sale.invitations]
jwks_url = "https://shop.example.com/.well-known/jwks.json"
)");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  ASSERT_EQ(cfg->rooms.size(), 1u);
  EXPECT_EQ(cfg->rooms[0].second.invitations.jwks_url,
            "https://shop.example.com/.well-known/jwks.json");
  auto plain = load("[rooms.sale.invitations]\njwks_url = \"http://shop.example.com/jwks\"");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().detail.find("invitations.jwks_url"), std::string::npos)
      << plain.error().detail;
}

TEST(ServerConfig, ErrorsNameTheKey) {
  struct Case {
    std::string toml;
    std::string names;
  };
  const Case cases[] = {
      {"colour = 1", "colour"},
      {"listen = \"example.com:80\"", "listen"},
      {"aws_prefix = \"aws/\"", "aws_prefix"},
      {"[[aws_credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"short\"",
       "aws_credentials"},
      {"[limits]\nbody_limit_bytes = 0", "limits.body_limit_bytes"},
      {"[limits]\nmax_event_streams = 0", "limits.max_event_streams"},
      {"[limits]\nshutdown_timeout_s = 0", "limits.shutdown_timeout_s"},
      {"[limits]\nevent_heartbeat_s = 3601", "limits.event_heartbeat_s"},
      {"[rooms.shop]\npass_lifetime_s = 5", "rooms.shop"},
      {"[rooms.\"-bad\"]", "rooms.-bad"},
      {"durability = \"sometimes\"", "durability"},
      {"gate_path = \"gate\"", "gate_path"},
      {"public_url = \"queue.example.com\"", "public_url"},
      {"public_url = \"https://queue.example.com/\"", "public_url"},
      {"[testing]\nmanual_clock = \"yes\"", "testing.manual_clock"},
      {"[testing]\nfast = true", "testing.fast"},
      {"webhooks = 1", "webhooks"},
      {"[rooms.shop]\nadmission = {mode = \"rate\"}", "admission.rate_per_minute"},
      {"[rooms.shop.admission]\nmode = \"max_active\"\nmax_active = 5\nstart = 2026-12-01",
       "admission.start"},
      {"default_room = \"_x\"", "default_room"},
      {"theme_dir = \"\"", "theme_dir"},
      {"[rooms.shop]\ntheme_dir = 5", "rooms.shop.theme_dir"},
      {"[tls]\ncert_file = \"/etc/cert.pem\"", "tls.key_file"},
      {"[tls]\nkey_file = \"/etc/key.pem\"", "tls.cert_file"},
      {"[tls]\ncert_file = \"\"", "tls.cert_file"},
      {"[tls]\nhsts_max_age_s = 60", "tls.hsts_max_age_s"},
      {"[tls]\ncert_file = \"c\"\nkey_file = \"k\"\nhsts_max_age_s = -1", "tls.hsts_max_age_s"},
      {"[tls]\nhsts_include_subdomains = \"yes\"", "tls.hsts_include_subdomains"},
      {"[tls]\nport = 443", "tls.port"},
      {"tls = 1", "tls"},
      {"smtp = 1", "smtp"},
      {"public_url = \"https://q.example\"\n[smtp]\nfrom = \"queue@shop.example\"", "smtp.host"},
      {"public_url = \"https://q.example\"\n[smtp]\nhost = \"smtp.example.com\"", "smtp.from"},
      {"public_url = \"https://q.example\"\n[smtp]\nhost = \"smtp example.com\"", "smtp.host"},
      {"public_url = \"https://q.example\"\n[smtp]\nport = 0", "smtp.port"},
      {"public_url = \"https://q.example\"\n[smtp]\nport = 65536", "smtp.port"},
      {"public_url = \"https://q.example\"\n[smtp]\nstarttls = \"maybe\"", "smtp.starttls"},
      {"public_url = \"https://q.example\"\n[smtp]\nimplicit_tls = \"yes\"", "smtp.implicit_tls"},
      {"public_url = \"https://q.example\"\n[smtp]\ntimeout_ms = 0", "smtp.timeout_ms"},
      {"public_url = \"https://q.example\"\n[smtp]\nfrom = \"Queue <queue>\"", "smtp.from"},
      {"public_url = \"https://q.example\"\n[smtp]\nfrom = \"queue@shop.example\\r\\nBcc: "
       "all@example.org\"",
       "smtp.from"},
      {"public_url = \"https://q.example\"\n[smtp]\nfrom = \"Queue\\n <queue@shop.example>\"",
       "smtp.from"},
      {"public_url = \"https://q.example\"\n[smtp]\nhelo = \"two words\"", "smtp.helo"},
      {"public_url = \"https://q.example\"\n[smtp]\npassword_file = \"\"", "smtp.password_file"},
      {"public_url = \"https://q.example\"\n[smtp]\ncolour = 1", "smtp.colour"},
      {"[smtp]\nhost = \"h\"\nfrom = \"q@h\"", "public_url"},
      {"[push]\nallowed_hosts = [\"fcm.googleapis.com\"]", "push.subject"},
      {"[push]\nsubject = \"ops@example.com\"", "push.subject"},
      {"[push]\nsubject = \"mailto:o@e.x\"\nallowed_hosts = []", "push.allowed_hosts"},
      {"[push]\nsubject = \"mailto:o@e.x\"\nallowed_hosts = [\"a b\"]", "push.allowed_hosts"},
      {"[push]\nsubject = \"mailto:o@e.x\"\nretries = 3", "push.retries"},
      {"public_url = \"https://q.example\"\n[smtp]\nhost = \"h\"\nfrom = \"q@h\"\nusername = \"q\"",
       "smtp.password_file"},
      {"public_url = \"https://q.example\"\n[smtp]\nhost = \"h\"\nfrom = \"q@h\"\nusername = "
       "\"q\"\npassword_file = \"/nonexistent\"",
       "smtp.password_file"},
  };
  for (const Case& c : cases) {
    auto cfg = load(c.toml);
    ASSERT_FALSE(cfg) << c.toml;
    EXPECT_NE(cfg.error().detail.find(c.names), std::string::npos) << cfg.error().detail;
  }
}

TEST(ServerConfig, ReadsTlsAndMakesCookiesSecure) {
  auto plain = load("");
  ASSERT_TRUE(plain) << plain.error().detail;
  EXPECT_FALSE(plain->tls.enabled());
  EXPECT_FALSE(plain->cookie_secure);
  EXPECT_EQ(strict_transport_security(plain->tls), "");

  auto cfg = load(R"(
cookie_secure = false
[tls]
cert_file = "/etc/waitroom/fullchain.pem"
key_file = "/etc/waitroom/privkey.pem"
)");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_TRUE(cfg->tls.enabled());
  EXPECT_EQ(cfg->tls.cert_file, "/etc/waitroom/fullchain.pem");
  EXPECT_EQ(cfg->tls.key_file, "/etc/waitroom/privkey.pem");
  EXPECT_TRUE(cfg->cookie_secure) << "TLS makes every cookie Secure";
  EXPECT_EQ(strict_transport_security(cfg->tls), "") << "no HSTS by default";

  cfg->tls.hsts_max_age_s = 31536000;
  EXPECT_EQ(strict_transport_security(cfg->tls), "max-age=31536000");
  cfg->tls.hsts_include_subdomains = true;
  EXPECT_EQ(strict_transport_security(cfg->tls), "max-age=31536000; includeSubDomains");
}

TEST(ServerConfig, TlsFilesComeFromTheEnvironment) {
  ::setenv("WAITROOM_TLS_CERT_FILE", "/run/secrets/cert.pem", 1);
  auto half = load("");
  ::setenv("WAITROOM_TLS_KEY_FILE", "/run/secrets/key.pem", 1);
  auto both = load("[tls]\nhsts_max_age_s = 600\n");
  ::unsetenv("WAITROOM_TLS_CERT_FILE");
  ::unsetenv("WAITROOM_TLS_KEY_FILE");
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().detail.find("tls.key_file"), std::string::npos) << half.error().detail;
  ASSERT_TRUE(both) << both.error().detail;
  EXPECT_EQ(both->tls.cert_file, "/run/secrets/cert.pem");
  EXPECT_EQ(both->tls.key_file, "/run/secrets/key.pem");
  EXPECT_EQ(strict_transport_security(both->tls), "max-age=600");
}

TEST(ServerConfig, ReadsRedisClusterAndReplicaWaits) {
  auto plain = load("");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->redis.cluster);
  EXPECT_EQ(plain->redis.wait_replicas, 0);
  auto set = load("store = \"redis\"\nredis_cluster = true\nredis_wait_replicas = 1\n");
  ASSERT_TRUE(set) << set.error().detail;
  EXPECT_TRUE(set->redis.cluster);
  EXPECT_EQ(set->redis.wait_replicas, 1);
  ::setenv("WAITROOM_REDIS_WAIT_REPLICAS", "2", 1);
  ::setenv("WAITROOM_REDIS_CLUSTER", "0", 1);
  auto env = load("redis_cluster = true\n");
  ::setenv("WAITROOM_REDIS_WAIT_REPLICAS", "-1", 1);
  auto bad_env = load("");
  ::unsetenv("WAITROOM_REDIS_WAIT_REPLICAS");
  ::unsetenv("WAITROOM_REDIS_CLUSTER");
  ASSERT_TRUE(env) << env.error().detail;
  EXPECT_FALSE(env->redis.cluster);
  EXPECT_EQ(env->redis.wait_replicas, 2);
  ASSERT_FALSE(bad_env);
  EXPECT_NE(bad_env.error().detail.find("WAITROOM_REDIS_WAIT_REPLICAS"), std::string::npos);
  auto bad = load("redis_wait_replicas = 17\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find("redis_wait_replicas"), std::string::npos);
  EXPECT_FALSE(load("redis_cluster = \"yes\"\n"));
}

TEST(ServerConfig, ReadsDashboardKeys) {
  auto defaults = load("");
  ASSERT_TRUE(defaults) << defaults.error().detail;
  EXPECT_EQ(defaults->dashboard.session_idle_timeout_s, 8 * 3600);
  EXPECT_EQ(defaults->dashboard.history_interval_ms, 10'000);
  EXPECT_EQ(defaults->dashboard.history_days, 7);
  auto cfg = load(R"(
[dashboard]
history_days = 30
session_idle_timeout_s = 600
session_lifetime_s = 3600
max_sessions = 3
[testing]
history_interval_ms = 250
)");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_EQ(cfg->dashboard.session_idle_timeout_s, 600);
  EXPECT_EQ(cfg->dashboard.session_lifetime_s, 3600);
  EXPECT_EQ(cfg->dashboard.max_sessions, 3u);
  EXPECT_EQ(cfg->dashboard.history_interval_ms, 250);
  EXPECT_EQ(cfg->dashboard.history_days, 30);
  const std::pair<const char*, const char*> bad[] = {
      {"[dashboard]\nmax_sessions = 0", "dashboard.max_sessions"},
      {"[dashboard]\nhistory_days = 0", "dashboard.history_days"},
      {"[dashboard]\nhistory_days = 367", "dashboard.history_days"},
      {"[dashboard]\ncolour = 1", "dashboard.colour"},
      {"[testing]\nhistory_interval_ms = 10", "testing.history_interval_ms"},
      {"dashboard = 1", "dashboard"},
  };
  for (const auto& [toml, names] : bad) {
    auto r = load(toml);
    ASSERT_FALSE(r) << toml;
    EXPECT_NE(r.error().detail.find(names), std::string::npos) << r.error().detail;
  }
}

TEST(ServerConfig, ReadsThePagesDefaultRoomAndThemes) {
  auto cfg = load(R"(
default_room = "shop"
theme_dir = "/srv/themes/brand"
[rooms.shop]
theme_dir = "/srv/themes/shop"
pass_lifetime_s = 300
[rooms.other]
)");
  ASSERT_TRUE(cfg) << cfg.error().detail;
  EXPECT_EQ(cfg->default_room, "shop");
  EXPECT_EQ(cfg->theme_dir, "/srv/themes/brand");
  ASSERT_EQ(cfg->room_theme_dirs.size(), 1u);
  EXPECT_EQ(cfg->room_theme_dirs[0].first, "shop");
  EXPECT_EQ(cfg->room_theme_dirs[0].second, "/srv/themes/shop");
  ASSERT_EQ(cfg->rooms.size(), 2u);
  for (const auto& [name, settings] : cfg->rooms)  // the room's settings, without theme_dir
    EXPECT_EQ(settings.pass_lifetime_s, name == "shop" ? 300 : core::kDefaultPassLifetimeS) << name;
}

TEST(ServerConfig, ReadsSmtpWithItsPasswordFromAFileOrTheEnvironment) {
  auto none = load("");
  ASSERT_TRUE(none) << none.error().detail;
  EXPECT_FALSE(none->smtp.has_value()) << "no [smtp]: no mail";

  auto defaults = load(
      "public_url = \"https://q.example\"\n[smtp]\nhost = \"smtp.example.com\"\nfrom = "
      "\"queue@shop.example\"\n");
  ASSERT_TRUE(defaults) << defaults.error().detail;
  ASSERT_TRUE(defaults->smtp);
  EXPECT_EQ(defaults->smtp->host, "smtp.example.com");
  EXPECT_EQ(defaults->smtp->port, 587);
  EXPECT_EQ(defaults->smtp->starttls, SmtpStartTls::required);
  EXPECT_FALSE(defaults->smtp->implicit_tls);
  EXPECT_EQ(defaults->smtp->username, "");
  EXPECT_EQ(defaults->smtp->password, "");
  EXPECT_EQ(defaults->smtp->from_address, "queue@shop.example");
  EXPECT_EQ(defaults->smtp->from_name, "");
  EXPECT_EQ(defaults->smtp->helo, "");
  EXPECT_EQ(defaults->smtp->timeout_ms, 10'000);

  waitroom::testing::TempDir dir;
  const auto password_file = dir.path() / "smtp.password";
  std::ofstream(password_file) << "from the file  \r\nsecond line\n";
  const std::string toml = R"(public_url = "https://q.example"
[smtp]
host = "mail.example.com"
port = 465
implicit_tls = true
starttls = "opportunistic"
username = "queue@shop.example"
password_file = ")" + password_file.string() +
                           R"("
from = "Shop Queue <queue@shop.example>"
helo = "queue.shop.example"
ca_file = "/etc/ssl/mail-ca.pem"
timeout_ms = 2500
)";
  auto cfg = load(toml);
  ASSERT_TRUE(cfg) << cfg.error().detail;
  ASSERT_TRUE(cfg->smtp);
  const SmtpConfig& smtp = *cfg->smtp;
  EXPECT_EQ(smtp.host, "mail.example.com");
  EXPECT_EQ(smtp.port, 465);
  EXPECT_TRUE(smtp.implicit_tls);
  EXPECT_EQ(smtp.starttls, SmtpStartTls::opportunistic);
  EXPECT_EQ(smtp.username, "queue@shop.example");
  EXPECT_EQ(smtp.password, "from the file") << "the first line, trailing spaces removed";
  EXPECT_EQ(smtp.from, "Shop Queue <queue@shop.example>");
  EXPECT_EQ(smtp.from_name, "Shop Queue");
  EXPECT_EQ(smtp.from_address, "queue@shop.example");
  EXPECT_EQ(smtp.helo, "queue.shop.example");
  EXPECT_EQ(smtp.ca_file, "/etc/ssl/mail-ca.pem");
  EXPECT_EQ(smtp.timeout_ms, 2500);

  // The environment wins, and the file is then not read at all.
  ::setenv("WAITROOM_SMTP_PASSWORD", "from the environment", 1);
  std::filesystem::remove(password_file);
  auto from_env = load(toml);
  ::unsetenv("WAITROOM_SMTP_PASSWORD");
  ASSERT_TRUE(from_env) << from_env.error().detail;
  EXPECT_EQ(from_env->smtp->password, "from the environment");
  EXPECT_EQ(settings_needing_restart(*cfg, *from_env), std::vector<std::string>{"smtp"});

  auto quoted = load(
      "public_url = \"https://q.example\"\n[smtp]\nhost = \"192.0.2.25\"\nfrom = '\"Shop, Queue\" "
      "<queue@shop.example>'\n");
  ASSERT_TRUE(quoted) << quoted.error().detail;
  EXPECT_EQ(quoted->smtp->from_name, "Shop, Queue");
  EXPECT_EQ(quoted->smtp->from_address, "queue@shop.example");
}

TEST(ServerConfig, SmtpNeverSendsThePasswordInTheClear) {
  ::setenv("WAITROOM_SMTP_PASSWORD", "0123456789", 1);
  auto plain = load(R"(public_url = "https://q.example"
[smtp]
host = "smtp.example.com"
from = "queue@shop.example"
username = "queue"
starttls = "off"
)");
  auto no_user = load(
      "public_url = \"https://q.example\"\n[smtp]\nhost = \"smtp.example.com\"\nfrom = "
      "\"queue@shop.example\"\n");
  auto implicit = load(R"(public_url = "https://q.example"
[smtp]
host = "smtp.example.com"
from = "queue@shop.example"
username = "queue"
starttls = "off"
implicit_tls = true
)");
  ::unsetenv("WAITROOM_SMTP_PASSWORD");
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().detail.find("smtp.starttls"), std::string::npos) << plain.error().detail;
  EXPECT_EQ(plain.error().detail.find("0123456789"), std::string::npos);
  ASSERT_FALSE(no_user);
  EXPECT_NE(no_user.error().detail.find("smtp.username"), std::string::npos)
      << no_user.error().detail;
  ASSERT_TRUE(implicit) << implicit.error().detail;
  EXPECT_EQ(implicit->smtp->password, "0123456789");
}

TEST(ServerConfig, ReportsTheLineOfASyntaxError) {
  auto cfg = load("listen = \"127.0.0.1:1\"\nthreads = = 2\n");
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.error().detail.find(":2:"), std::string::npos) << cfg.error().detail;
}

}  // namespace
}  // namespace waitroom::config
