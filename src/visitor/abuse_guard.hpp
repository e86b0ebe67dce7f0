#pragma once
// A room's defences against bots on its busiest day (core::AbuseSettings, docs/security.md): the
// per-client rate limits on new tickets and on status polls, the proof of work before a ticket,
// and what binding a pass to its client needs. Handlers ask it before they call the store; it
// keeps each room's settings for a second (the admin API's changes reach it at once through
// forget()), and counts every refusal for /metrics.
#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/room_settings.hpp"
#include "http/rate_limiter.hpp"
#include "store/store.hpp"
#include "token/proof_of_work.hpp"

namespace waitroom::visitor {

enum class Refusal : std::uint8_t { ticket_rate, poll_rate, pow, room_full, pass_binding, count_ };

class AbuseGuard {
 public:
  static constexpr std::int64_t kSettingsMaxAgeMs = 1000;
  using Fields = boost::beast::http::fields;
  using Address = boost::asio::ip::address;

  AbuseGuard(store::Store& store, const core::Clock& clock, std::string_view server_secret);

  // Before a ticket is given: the client's ticket rate, then the proof of work when the room asks
  // for one (429 with Retry-After, or 403). A room that does not exist passes: the store says 404.
  boost::asio::awaitable<core::Result<void>> admit_ticket(const Fields& headers,
                                                          const Address& peer,
                                                          const std::string& room,
                                                          std::string_view pow_challenge,
                                                          std::string_view pow_nonce);
  // Before a status read (ticket, page, event stream, AWS queue_num): the client's poll rate.
  boost::asio::awaitable<core::Result<void>> admit_poll(const Fields& headers, const Address& peer,
                                                        const std::string& room);
  // A challenge for the room's current difficulty (bits 0: the room asks for none).
  boost::asio::awaitable<core::Result<token::PowChallenge>> challenge(const std::string& room);

  // The client's address: the peer's, or what a trusted proxy in front says it is.
  boost::asio::awaitable<core::IpBytes> client_address(const Fields& headers, const Address& peer,
                                                       const std::string& room);
  // The client's network as a pass bound by ip_prefix records it: "203.0.113.0/24",
  // "2001:db8::/64".
  boost::asio::awaitable<std::string> client_prefix(const Fields& headers, const Address& peer,
                                                    const std::string& room);
  // The value of the binding cookie of a pass bound by cookie: HMAC of room and ticket under the
  // server's secret, so every node and every restart computes the same one.
  std::string binding_value(std::string_view room, std::string_view ticket) const;

  void count(const std::string& room, Refusal why);
  // The room's settings changed (admin API) or it is gone: read them again on next use.
  void forget(const std::string& room);
  void render_metrics(std::string& out) const;

 private:
  struct RoomGuard {
    std::shared_ptr<const core::AbuseSettings> settings;  // swapped whole under settings_mu
    mutable std::mutex settings_mu;
    std::atomic<std::int64_t> fetched_ms{0};  // steady clock; read again a second later
    http::RateLimiter tickets;
    http::RateLimiter polls;
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Refusal::count_)> refused{};
    std::atomic<std::uint64_t> challenges{};
  };
  // The room's guard with settings at most a second old; null for a room the store does not know.
  boost::asio::awaitable<RoomGuard*> guard(const std::string& room);
  static std::shared_ptr<const core::AbuseSettings> settings_of(const RoomGuard& g);
  core::IpBytes client(const Fields& headers, const Address& peer,
                       const core::AbuseSettings& settings) const;

  store::Store& store_;
  const core::Clock& clock_;
  token::ProofOfWork pow_;
  token::SpentChallenges spent_;
  std::string binding_key_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<RoomGuard>> rooms_;
};

}  // namespace waitroom::visitor
