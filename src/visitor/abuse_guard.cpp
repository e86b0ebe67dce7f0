#include "visitor/abuse_guard.hpp"

#include <fmt/format.h>

#include <chrono>

#include "http/client_address.hpp"
#include "token/base64url.hpp"
#include "token/hmac_sha256.hpp"

namespace waitroom::visitor {

namespace asio = boost::asio;
using core::ErrorCode;

namespace {

constexpr std::string_view kBindingLabel = "waitroom pass binding v1";
constexpr std::size_t kBindingBytes = 16;
// IPv4 clients move within their /24 (carrier NAT pools, DHCP); IPv6 ones within their /64.
constexpr unsigned kBindIpv4Bits = 24;
constexpr unsigned kBindIpv6Bits = 64;

constexpr std::string_view kRefusalNames[] = {"ticket_rate", "poll_rate", "proof_of_work",
                                              "room_full", "pass_binding"};

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

core::Error too_many(std::string what, std::int64_t wait_ms) {
  return core::Error{ErrorCode::too_many_requests, std::move(what),
                     std::max<std::int64_t>((wait_ms + 999) / 1000, 1)};
}

}  // namespace

AbuseGuard::AbuseGuard(store::Store& store, const core::Clock& clock,
                       std::string_view server_secret)
    : store_(store),
      clock_(clock),
      pow_(server_secret),
      binding_key_(token::hmac_sha256(server_secret, kBindingLabel)) {}

std::shared_ptr<const core::AbuseSettings> AbuseGuard::settings_of(const RoomGuard& g) {
  std::lock_guard lock(g.settings_mu);
  return g.settings;
}

asio::awaitable<AbuseGuard::RoomGuard*> AbuseGuard::guard(const std::string& room) {
  const std::int64_t now = steady_ms();
  RoomGuard* g = nullptr;
  {
    std::shared_lock lock(mu_);
    if (auto it = rooms_.find(room); it != rooms_.end()) g = it->second.get();
  }
  if (g && now - g->fetched_ms.load(std::memory_order_relaxed) < kSettingsMaxAgeMs) co_return g;
  auto view = co_await store_.room(room);
  if (!view)
    co_return g;  // unknown room: nothing to guard (the store answers); store trouble: last
                  // settings
  auto settings = std::make_shared<const core::AbuseSettings>(view->settings.abuse);
  if (!g) {
    std::unique_lock lock(mu_);
    auto& slot = rooms_[room];
    if (!slot) slot = std::make_unique<RoomGuard>();
    g = slot.get();
  }
  {
    std::lock_guard lock(g->settings_mu);
    g->settings = std::move(settings);
  }
  g->fetched_ms.store(now, std::memory_order_relaxed);
  co_return g;
}

core::IpBytes AbuseGuard::client(const Fields& headers, const Address& peer,
                                 const core::AbuseSettings& settings) const {
  return http::client_address(http::to_ip_bytes(peer), headers, settings.trusted_proxies);
}

asio::awaitable<core::Result<void>> AbuseGuard::admit_ticket(const Fields& headers,
                                                             const Address& peer,
                                                             const std::string& room,
                                                             std::string_view pow_challenge,
                                                             std::string_view pow_nonce) {
  RoomGuard* g = co_await guard(room);
  if (!g) co_return core::Result<void>{};
  const auto settings = settings_of(*g);
  const std::int64_t now_ms = clock_.now_ms();
  if (settings->tickets_per_ip_per_minute > 0) {
    // The machine itself (a proxy in front that does not send X-Forwarded-For, local tools)
    // stands for every visitor at once: it is never limited.
    const core::IpBytes address = client(headers, peer, *settings);
    if (!http::is_loopback(address)) {
      const std::int64_t wait_ms = g->tickets.acquire(
          http::limit_key(address), settings->tickets_per_ip_per_minute, 60'000, now_ms);
      if (wait_ms > 0) {
        count(room, Refusal::ticket_rate);
        co_return std::unexpected(
            too_many("too many new places from your network; try again later", wait_ms));
      }
    }
  }
  if (settings->pow_difficulty_bits > 0) {
    const std::int64_t now_s = now_ms / 1000;
    auto solved = pow_.verify(room, pow_challenge, pow_nonce,
                              static_cast<unsigned>(settings->pow_difficulty_bits), now_s);
    core::Result<void> spent =
        solved ? spent_.spend(*solved, now_s) : std::unexpected(solved.error());
    if (!spent) {
      count(room, Refusal::pow);
      co_return spent;
    }
  }
  co_return core::Result<void>{};
}

asio::awaitable<core::Result<void>> AbuseGuard::admit_poll(const Fields& headers,
                                                           const Address& peer,
                                                           const std::string& room) {
  // The hot path: a poll straight from this machine needs no settings at all.
  if (headers.find("X-Forwarded-For") == headers.end() &&
      http::is_loopback(http::to_ip_bytes(peer)))
    co_return core::Result<void>{};
  RoomGuard* g = co_await guard(room);
  if (!g) co_return core::Result<void>{};
  const auto settings = settings_of(*g);
  if (settings->polls_per_ip_per_second <= 0) co_return core::Result<void>{};
  const core::IpBytes address = client(headers, peer, *settings);
  if (http::is_loopback(address)) co_return core::Result<void>{};
  const std::int64_t wait_ms = g->polls.acquire(
      http::limit_key(address), settings->polls_per_ip_per_second, 1000, clock_.now_ms());
  if (wait_ms > 0) {
    count(room, Refusal::poll_rate);
    co_return std::unexpected(
        too_many("too many status requests from your network; slow down", wait_ms));
  }
  co_return core::Result<void>{};
}

asio::awaitable<core::Result<token::PowChallenge>> AbuseGuard::challenge(const std::string& room) {
  RoomGuard* g = co_await guard(room);
  if (!g) co_return core::fail(ErrorCode::not_found, "no such room: " + room);
  const auto settings = settings_of(*g);
  g->challenges.fetch_add(1, std::memory_order_relaxed);
  co_return pow_.issue(room, static_cast<unsigned>(settings->pow_difficulty_bits),
                       clock_.now_ms() / 1000);
}

asio::awaitable<core::IpBytes> AbuseGuard::client_address(const Fields& headers,
                                                          const Address& peer,
                                                          const std::string& room) {
  RoomGuard* g = co_await guard(room);
  const auto settings = g ? settings_of(*g) : std::make_shared<const core::AbuseSettings>();
  co_return client(headers, peer, *settings);
}

asio::awaitable<std::string> AbuseGuard::client_prefix(const Fields& headers, const Address& peer,
                                                       const std::string& room) {
  const core::IpBytes address = co_await client_address(headers, peer, room);
  co_return core::to_string(core::network_of(address, kBindIpv4Bits, kBindIpv6Bits));
}

std::string AbuseGuard::binding_value(std::string_view room, std::string_view ticket) const {
  std::string data(room);
  data += '|';
  data += ticket;
  return token::base64url_encode(token::hmac_sha256(binding_key_, data).substr(0, kBindingBytes));
}

void AbuseGuard::count(const std::string& room, Refusal why) {
  std::shared_lock lock(mu_);
  if (auto it = rooms_.find(room); it != rooms_.end())
    it->second->refused[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
}

void AbuseGuard::forget(const std::string& room) {
  std::shared_lock lock(mu_);
  if (auto it = rooms_.find(room); it != rooms_.end()) it->second->fetched_ms.store(INT64_MIN / 2);
}

void AbuseGuard::render_metrics(std::string& out) const {
  std::shared_lock lock(mu_);
  out +=
      "# HELP waitroom_abuse_refused_total Requests a room's abuse protection refused, by reason.\n"
      "# TYPE waitroom_abuse_refused_total counter\n";
  for (const auto& [room, g] : rooms_)
    for (std::size_t i = 0; i < g->refused.size(); ++i)
      out += fmt::format("waitroom_abuse_refused_total{{room=\"{}\",reason=\"{}\"}} {}\n", room,
                         kRefusalNames[i], g->refused[i].load(std::memory_order_relaxed));
  out +=
      "# HELP waitroom_pow_challenges_total Proof-of-work challenges handed out.\n"
      "# TYPE waitroom_pow_challenges_total counter\n";
  for (const auto& [room, g] : rooms_)
    out += fmt::format("waitroom_pow_challenges_total{{room=\"{}\"}} {}\n", room,
                       g->challenges.load(std::memory_order_relaxed));
  out +=
      "# HELP waitroom_rate_limited_clients Client networks the rate limits remember now.\n"
      "# TYPE waitroom_rate_limited_clients gauge\n";
  for (const auto& [room, g] : rooms_)
    out += fmt::format(
        "waitroom_rate_limited_clients{{room=\"{}\",limit=\"tickets\"}} {}\n"
        "waitroom_rate_limited_clients{{room=\"{}\",limit=\"polls\"}} {}\n",
        room, g->tickets.clients(), room, g->polls.clients());
}

}  // namespace waitroom::visitor
