#pragma once
// The keys rooms' jwks_url settings publish (docs/admission.md, "Invitations"), fetched and cached
// for the whole process: one fetcher, shared by every room naming the same URL. Fetches block
// (net::HttpClient), so they run on the fetcher's own thread, never on an I/O thread; a join that
// must wait for one resumes on its own executor.
//
// A URL's keys are fresh for kJwksFreshMs; a use after that is served the keys it has while they
// are fetched again in the background. A kid they lack fetches again at once, but a URL is fetched
// at most once per kJwksRetryMs (a forged kid must not make the server hammer the site), and joins
// that want the same fetch wait for that one. A failed fetch keeps the keys fetched before and is
// logged; with none at all, the join is refused (unavailable) until a fetch succeeds.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "token/jwk_set.hpp"

namespace waitroom::store {

inline constexpr std::int64_t kJwksFreshMs = 5 * 60 * 1000;
inline constexpr std::int64_t kJwksRetryMs = 10 * 1000;
inline constexpr std::chrono::milliseconds kJwksFetchTimeout{3000};
inline constexpr std::size_t kMaxJwksBytes = 1 << 20;

using JwkSetPtr = std::shared_ptr<const token::JwkSet>;

// A URL's body when it answered 200 within kJwksFetchTimeout and kMaxJwksBytes, or why not.
// Blocking.
using JwksFetch = std::function<std::expected<std::string, std::string>(const std::string& url)>;
std::expected<std::string, std::string> fetch_jwks_over_http(const std::string& url);

class InvitationJwks {
 public:
  // `clock` times freshness and retries (the server's, so a test clock moves them); `fetch` gets a
  // URL's document, on the fetcher's thread.
  explicit InvitationJwks(const core::Clock& clock, JwksFetch fetch = fetch_jwks_over_http);
  ~InvitationJwks();
  InvitationJwks(const InvitationJwks&) = delete;
  InvitationJwks& operator=(const InvitationJwks&) = delete;

  // The keys of `url` to check an invitation signed with `kid` (which they may still lack: the
  // caller refuses it then). unavailable, with a Retry-After, when the URL never gave keys.
  boost::asio::awaitable<core::Result<JwkSetPtr>> keys(std::string url, std::string kid);

  // waitroom_invitation_jwks_fetches_total{result="ok"|"failed"} for /metrics.
  void render_metrics(std::string& out) const;

 private:
  struct Entry {
    JwkSetPtr keys;                        // the last good set; null until one
    std::int64_t fetched_ms = 0;           // when `keys` came
    std::optional<std::int64_t> tried_ms;  // when the last fetch began
    bool refresh_queued = false;           // a background fetch waits on the thread
    bool fetching = false;                 // a fetch is under way: joins wait for it
  };
  // Whether a fetch of `e` for `kid` is due now ("": a background refresh).
  bool needs_fetch(const Entry& e, const std::string& kid, std::int64_t now_ms) const;
  // On the fetcher's thread, one at a time: fetches `url` if it is still due (a fetch another
  // join asked for may have just answered this one too).
  void fetch_if_due(const std::string& url, const std::string& kid);
  boost::asio::awaitable<void> fetch_on_thread(std::string url, std::string kid);

  const core::Clock& clock_;
  const JwksFetch fetch_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;  // by URL
  std::uint64_t fetches_ok_ = 0;                       // under mutex_
  std::uint64_t fetches_failed_ = 0;
  // Last: destroyed (stopped and joined) first, while what its fetch uses still exists.
  boost::asio::thread_pool thread_{1};
};

}  // namespace waitroom::store
