#include "store/invitation_jwks.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/http_client.hpp"
#include "ops/log.hpp"

namespace waitroom::store {
namespace {

namespace asio = boost::asio;

// Whether `span_ms` went by since `since_ms`. A clock set back counts as gone by: keys would
// otherwise never be fetched again until it caught up.
bool passed(std::optional<std::int64_t> since_ms, std::int64_t now_ms, std::int64_t span_ms) {
  return !since_ms || now_ms - *since_ms >= span_ms || now_ms < *since_ms;
}

core::Error cannot_fetch() {
  return core::Error{core::ErrorCode::unavailable,
                     "the room's invitation keys cannot be fetched from its jwks_url; try again "
                     "shortly",
                     kJwksRetryMs / 1000};
}

}  // namespace

std::expected<std::string, std::string> fetch_jwks_over_http(const std::string& url) {
  net::HttpClient::Options options;
  options.timeout = kJwksFetchTimeout;
  options.max_body_bytes = kMaxJwksBytes;
  net::ClientRequest request;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", "waitroom"}};
  // A fetch every few minutes at most: a connection of its own.
  auto response = net::send_once(url, request, std::move(options));
  if (!response) return std::unexpected(response.error());
  if (response->status != 200)
    return std::unexpected("answered " + std::to_string(response->status) + ", not 200");
  return std::move(response->body);
}

InvitationJwks::InvitationJwks(const core::Clock& clock, JwksFetch fetch)
    : clock_(clock), fetch_(std::move(fetch)) {}

InvitationJwks::~InvitationJwks() {
  thread_.stop();
  thread_.join();
}

bool InvitationJwks::needs_fetch(const Entry& e, const std::string& kid,
                                 std::int64_t now_ms) const {
  if (!passed(e.tried_ms, now_ms, kJwksRetryMs)) return false;
  if (!e.keys) return true;
  if (!kid.empty() && e.keys->find(kid) == nullptr) return true;
  return passed(e.fetched_ms, now_ms, kJwksFreshMs);
}

asio::awaitable<core::Result<JwkSetPtr>> InvitationJwks::keys(std::string url, std::string kid) {
  {
    const std::lock_guard lock(mutex_);
    Entry& e = entries_[url];
    const std::int64_t now_ms = clock_.now_ms();
    // A fetch under way may bring what this join lacks: it waits for that one.
    const bool wait = e.fetching || needs_fetch(e, kid, now_ms);
    if (e.keys && (e.keys->find(kid) != nullptr || !wait)) {
      // Stale keys are served while they are fetched again behind this join.
      if (needs_fetch(e, "", now_ms) && !e.refresh_queued) {
        e.refresh_queued = true;
        asio::post(thread_, [this, url] { fetch_if_due(url, ""); });
      }
      co_return e.keys;
    }
    if (!e.keys && !wait) co_return std::unexpected(cannot_fetch());
  }
  // The first use, or a kid the keys lack: this join waits for the fetch (or the one before it).
  co_await asio::co_spawn(thread_, fetch_on_thread(url, kid), asio::use_awaitable);
  const std::lock_guard lock(mutex_);
  const Entry& e = entries_[url];
  if (!e.keys) co_return std::unexpected(cannot_fetch());
  co_return e.keys;
}

asio::awaitable<void> InvitationJwks::fetch_on_thread(std::string url, std::string kid) {
  fetch_if_due(url, kid);
  co_return;
}

void InvitationJwks::fetch_if_due(const std::string& url, const std::string& kid) {
  {
    const std::lock_guard lock(mutex_);
    Entry& e = entries_[url];
    if (kid.empty()) e.refresh_queued = false;
    if (!needs_fetch(e, kid, clock_.now_ms())) return;
    e.tried_ms = clock_.now_ms();
    e.fetching = true;
  }
  auto document = fetch_(url);
  auto parsed =
      document
          ? token::parse_jwk_set(*document)
          : std::expected<token::JwkSet, std::string>(std::unexpected(std::move(document.error())));
  const std::lock_guard lock(mutex_);
  Entry& e = entries_[url];
  e.fetching = false;
  if (!parsed) {
    ++fetches_failed_;
    ops::log_warn("cannot fetch an invitation JWKS; its last keys stay in use",
                  {{"url", url}, {"error", parsed.error()}, {"has_keys", e.keys != nullptr}});
    return;
  }
  ++fetches_ok_;
  e.keys = std::make_shared<const token::JwkSet>(std::move(*parsed));
  e.fetched_ms = clock_.now_ms();
}

void InvitationJwks::render_metrics(std::string& out) const {
  const std::lock_guard lock(mutex_);
  out.append(
         "# HELP waitroom_invitation_jwks_fetches_total Fetches of rooms' invitation jwks_url, by "
         "result.\n# TYPE waitroom_invitation_jwks_fetches_total counter\n"
         "waitroom_invitation_jwks_fetches_total{result=\"ok\"} ")
      .append(std::to_string(fetches_ok_))
      .append("\nwaitroom_invitation_jwks_fetches_total{result=\"failed\"} ")
      .append(std::to_string(fetches_failed_))
      .append("\n");
}

}  // namespace waitroom::store
