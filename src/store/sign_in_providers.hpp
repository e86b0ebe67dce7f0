#pragma once
// The identity providers rooms sign visitors in with (a room's "login" setting, docs/admission.md
// "Sign-in"): each provider's endpoints from its discovery document, cached for the process, and
// the code-for-token exchange at the end of a sign-in, whose ID token is checked against the
// provider's keys (fetched and cached by InvitationJwks, which serves any JWKS URL). The HTTP calls
// block (net::HttpClient), so they run on this object's own threads, never on an I/O thread.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/login_settings.hpp"
#include "store/invitation_jwks.hpp"
#include "token/id_token.hpp"

namespace waitroom::store {

inline constexpr std::int64_t kDiscoveryFreshMs = 5 * 60 * 1000;
inline constexpr std::int64_t kDiscoveryRetryMs = 10 * 1000;
inline constexpr std::chrono::milliseconds kSignInCallTimeout{5000};
// Finished sign-ins remembered at once (each until its cookie would expire). Past it the oldest
// are forgotten first: memory stays bounded however many sign-ins are started, and a forgotten
// one still needs a new code from the provider, which it gives once per sign-in there.
inline constexpr std::size_t kMaxSpentSignIns = 100'000;

struct ProviderEndpoints {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// What the browser brought back to the callback, with what the sign-in kept of its start.
struct CodeRedemption {
  std::string code;
  std::string redirect_uri;   // exactly as sent with the authorization request
  std::string code_verifier;  // PKCE
  std::string nonce;
};

class SignInProviders {
 public:
  SignInProviders(const core::Clock& clock, InvitationJwks& jwks);
  ~SignInProviders();
  SignInProviders(const SignInProviders&) = delete;
  SignInProviders& operator=(const SignInProviders&) = delete;

  // The provider's endpoints ({issuer}/.well-known/openid-configuration, whose "issuer" must be
  // `issuer` itself): cached for kDiscoveryFreshMs, fetched again at most every kDiscoveryRetryMs;
  // unavailable (Retry-After) while it never answered.
  boost::asio::awaitable<core::Result<ProviderEndpoints>> endpoints(std::string issuer);

  // Exchanges the code at the token endpoint (client_secret_basic when the room has a secret) and
  // checks the ID token it answers (token/id_token.hpp). unauthorized when the provider refuses
  // the code or the token does not check; unavailable when the provider cannot be reached.
  boost::asio::awaitable<core::Result<token::IdToken>> redeem(core::LoginSettings login,
                                                              CodeRedemption redemption);

  // Whether the sign-in whose state is `state` may finish now: once only, however often its cookie
  // comes back (kept until `expires_at_s`, when the cookie is refused anyway). This process's
  // memory: another node of a cluster does not know it (the provider's one-time code still is).
  bool spend(const std::string& state, std::int64_t expires_at_s);

  // waitroom_sign_ins_total{result="ok"|"refused"|"unavailable"} for /metrics.
  void render_metrics(std::string& out) const;

 private:
  struct Entry {
    std::optional<ProviderEndpoints> endpoints;
    std::int64_t fetched_ms = 0;
    std::optional<std::int64_t> tried_ms;
  };
  core::Result<ProviderEndpoints> discover_on_thread(const std::string& issuer);
  core::Result<std::string> post_token_request(const core::LoginSettings& login,
                                               const std::string& token_endpoint,
                                               const CodeRedemption& redemption);
  void count(const core::Result<token::IdToken>& result);
  // The blocking calls as coroutines for the threads (their arguments copied into their frames).
  boost::asio::awaitable<core::Result<ProviderEndpoints>> discover_later(std::string issuer);
  boost::asio::awaitable<core::Result<std::string>> post_later(core::LoginSettings login,
                                                               std::string token_endpoint,
                                                               CodeRedemption redemption);

  const core::Clock& clock_;
  InvitationJwks& jwks_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;  // by issuer
  // Finished sign-ins' states, and the same by when their cookies expire (oldest first).
  std::set<std::string, std::less<>> spent_;
  std::set<std::pair<std::int64_t, std::string>> spent_by_expiry_;
  std::uint64_t ok_ = 0, refused_ = 0, unavailable_ = 0;
  // Last: destroyed (stopped and joined) first, while what its calls use still exists.
  boost::asio::thread_pool threads_{2};
};

}  // namespace waitroom::store
