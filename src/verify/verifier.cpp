// waitroom::verify::Verifier: the pass check a protected application runs, on the server's own JWS
// parser (token/jws.cpp, compiled into this library) and a key set taken from the server's JWKS.
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "token/base64url.hpp"
#include "token/jws.hpp"
#include "token/quoted.hpp"
#include "verify/jwks_source.hpp"
#include "verify/key_set.hpp"
#include "verify/pass_cache.hpp"
#include "waitroom/verify.hpp"

namespace waitroom::verify {
namespace {

using SteadyClock = std::chrono::steady_clock;
using detail::KeySet;
using detail::PublicKey;

constexpr char kThreadName[] = "waitroom-jwks";  // at most 15 characters (pthread_setname_np)
constexpr std::size_t kMaxQuotedChars = 40;
// After a failed load the refresh thread tries again this soon at the earliest, whatever
// min_refresh_interval says, so a broken source is never hammered.
constexpr std::chrono::seconds kMinRetryInterval{1};

Result refuse(ErrorCode code, std::string message) {
  return Result{code, std::move(message), nullptr};
}

std::string quoted(std::string_view text) { return token::quoted(text, kMaxQuotedChars); }

std::int64_t system_now_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b)
    return std::numeric_limits<std::int64_t>::max();
  return a + b;
}

std::optional<Algorithm> algorithm_named(std::string_view name) {
  if (name == "ES256") return Algorithm::ES256;
  if (name == "RS256") return Algorithm::RS256;
  return std::nullopt;
}

bool allowed(const Expectation& expect, Algorithm alg) {
  return std::find(expect.algorithms.begin(), expect.algorithms.end(), alg) !=
         expect.algorithms.end();
}

// The claims of an authentic payload, or what makes it unusable (ErrorCode::malformed).
std::expected<Claims, std::string> decode_claims(const boost::json::object& payload,
                                                 const PublicKey& key) {
  Claims c;
  const auto string_claim = [&payload](std::string_view name, std::string& out,
                                       bool required) -> std::optional<std::string> {
    const auto* v = payload.if_contains(name);
    if (v == nullptr) {
      if (required) return "pass has no " + std::string(name);
      return std::nullopt;
    }
    if (!v->is_string()) {
      // RFC 7519 allows an array aud; Waitroom passes always name exactly one room.
      return "pass " + std::string(name) + " is not a string";
    }
    out = v->as_string();
    return std::nullopt;
  };
  if (auto e = string_claim("iss", c.issuer, true)) return std::unexpected(*e);
  if (auto e = string_claim("sub", c.ticket, true)) return std::unexpected(*e);
  if (auto e = string_claim("aud", c.room, true)) return std::unexpected(*e);
  if (auto e = string_claim("jti", c.jti, false)) return std::unexpected(*e);
  if (auto e = string_claim("token_use", c.token_use, false)) return std::unexpected(*e);

  const auto* exp = payload.if_contains("exp");
  if (exp == nullptr) return std::unexpected("pass has no exp");
  const auto exp_value = token::numeric_date(*exp);
  if (!exp_value) return std::unexpected("pass exp is not a number");
  c.exp = *exp_value;
  for (const auto& [name, out] : {std::pair{"iat", &c.iat}, std::pair{"nbf", &c.nbf}}) {
    if (const auto* v = payload.if_contains(name)) {
      const auto value = token::numeric_date(*v);
      if (!value) return std::unexpected("pass " + std::string(name) + " is not a number");
      *out = *value;
    }
  }
  if (const auto* v = payload.if_contains("queue_position")) {
    if (v->is_uint64())
      c.queue_position = v->as_uint64();
    else if (v->is_int64() && v->as_int64() >= 0)
      c.queue_position = static_cast<std::uint64_t>(v->as_int64());
    else
      return std::unexpected("pass queue_position is not a non-negative integer");
  }
  if (const auto* v = payload.if_contains("party_size")) {
    if (v->is_uint64() && v->as_uint64() >= 1)
      c.party_size = v->as_uint64();
    else if (v->is_int64() && v->as_int64() >= 1)
      c.party_size = static_cast<std::uint64_t>(v->as_int64());
    else
      return std::unexpected("pass party_size is not a whole number of at least 1");
  }
  c.kid = key.kid();
  c.algorithm = key.alg();
  return c;
}

// The checks that depend on who asks and when: run on every call, cached or not.
Result check_claims(std::shared_ptr<const Claims> claims, const Expectation& expect,
                    std::int64_t now_s) {
  const Claims& c = *claims;
  const std::int64_t leeway_s =
      std::clamp<std::int64_t>(expect.leeway.count(), 0, kMaxLeeway.count());
  if (!c.token_use.empty() && c.token_use != "access") {
    return refuse(ErrorCode::wrong_token_use,
                  "token_use is " + quoted(c.token_use) + ", not \"access\": not a pass");
  }
  if (c.issuer != expect.issuer) {
    return refuse(ErrorCode::wrong_issuer,
                  "pass issuer " + quoted(c.issuer) + " is not " + quoted(expect.issuer));
  }
  if (c.room != expect.audience) {
    return refuse(ErrorCode::wrong_audience,
                  "pass is for room " + quoted(c.room) + ", not " + quoted(expect.audience));
  }
  if (!allowed(expect, c.algorithm)) {
    return refuse(ErrorCode::algorithm_not_allowed,
                  std::string(to_string(c.algorithm)) + " is not an allowed algorithm here");
  }
  // Written as exp <= now - leeway so that a huge exp cannot overflow.
  if (c.exp <= now_s - leeway_s) {
    return refuse(ErrorCode::expired, "pass expired at " + std::to_string(c.exp) + " (now " +
                                          std::to_string(now_s) + ", leeway " +
                                          std::to_string(leeway_s) + " s)");
  }
  if (c.nbf > now_s + leeway_s) {
    return refuse(ErrorCode::not_yet_valid, "pass is valid from " + std::to_string(c.nbf) +
                                                " (now " + std::to_string(now_s) + ", leeway " +
                                                std::to_string(leeway_s) + " s)");
  }
  return Result{ErrorCode::ok, {}, std::move(claims)};
}

// RFC 7519 section 6: an unsecured JWT ("alg":"none") is header.payload. with an empty signature.
// Only asked about text parse_jwt refused, to tell that case from plain garbage.
bool is_unsecured(std::string_view pass) {
  if (pass.empty() || pass.back() != '.' || std::count(pass.begin(), pass.end(), '.') != 2)
    return false;
  const auto header = token::base64url_decode(pass.substr(0, pass.find('.')));
  if (!header) return false;
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(*header, ec);
  return !ec && value.is_object();
}

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok:
      return "ok";
    case ErrorCode::malformed:
      return "malformed";
    case ErrorCode::bad_signature:
      return "bad_signature";
    case ErrorCode::unknown_kid:
      return "unknown_kid";
    case ErrorCode::expired:
      return "expired";
    case ErrorCode::not_yet_valid:
      return "not_yet_valid";
    case ErrorCode::wrong_audience:
      return "wrong_audience";
    case ErrorCode::wrong_issuer:
      return "wrong_issuer";
    case ErrorCode::algorithm_not_allowed:
      return "algorithm_not_allowed";
    case ErrorCode::too_large:
      return "too_large";
    case ErrorCode::wrong_token_use:
      return "wrong_token_use";
  }
  return "unknown";
}

std::string_view to_string(Algorithm algorithm) noexcept {
  switch (algorithm) {
    case Algorithm::ES256:
      return "ES256";
    case Algorithm::RS256:
      return "RS256";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------

struct Verifier::Impl {
  Impl(Options opts, std::unique_ptr<detail::JwksSource> src)
      : options(std::move(opts)), source(std::move(src)), cache(options.cache_capacity) {}

  ~Impl() {
    {
      std::lock_guard lock(wake_mutex);
      stopping = true;
    }
    wake_cv.notify_all();
    if (refresher.joinable()) refresher.join();
  }

  std::int64_t now_s() const { return options.now_s ? options.now_s() : system_now_s(); }

  // Fetches and parses the key set; on success it replaces the current one (and empties the
  // cache if a key went away or changed). The caller holds fetch_mutex.
  bool load(std::string* error) {
    last_attempt.store(SteadyClock::now().time_since_epoch().count());
    auto fail = [&](std::string why) {
      load_failures.fetch_add(1, std::memory_order_relaxed);
      last_failed.store(true);
      {
        std::lock_guard lock(status_mutex);
        last_error = why;
      }
      if (error != nullptr) *error = std::move(why);
      return false;
    };
    auto text = source->fetch();
    if (!text) return fail(std::move(text.error()));
    auto set = detail::parse_jwks(*text);
    if (!set) return fail(options.jwks + ": " + set.error());

    auto fresh = std::make_shared<const KeySet>(std::move(*set));
    const auto old = keys.load();
    keys.store(fresh);
    // After the store: a verify() that still took the old set read the cache epoch before it,
    // so clear() (which bumps the epoch) keeps its result out of the cache.
    if (old && !fresh->keeps_all_of(*old)) cache.clear();
    loads.fetch_add(1, std::memory_order_relaxed);
    last_failed.store(false);
    return true;
  }

  // A pass named a kid missing from `seen`: fetch again unless that happened too recently.
  // Returns whether the key set may have changed since `seen`.
  bool refresh_for_unknown_kid(const std::shared_ptr<const KeySet>& seen) {
    if (too_soon()) return false;
    std::lock_guard lock(fetch_mutex);
    if (keys.load() != seen) return true;  // another thread loaded while this one waited
    if (too_soon()) return false;
    load(nullptr);
    return true;
  }

  bool too_soon() const {
    const auto since =
        SteadyClock::now().time_since_epoch() - SteadyClock::duration(last_attempt.load());
    return since < options.min_refresh_interval;
  }

  void refresh_loop() {
    pthread_setname_np(pthread_self(), kThreadName);
    std::unique_lock lock(wake_mutex);
    while (!stopping) {
      if (last_failed.load()) {
        wake_cv.wait_for(
            lock, std::max<std::chrono::seconds>(options.min_refresh_interval, kMinRetryInterval),
            [this] { return stopping; });
      } else if (options.refresh_interval > std::chrono::seconds::zero()) {
        wake_cv.wait_for(lock, options.refresh_interval, [this] { return stopping; });
      } else {
        wake_cv.wait(lock, [this] { return stopping; });
      }
      if (stopping) break;
      lock.unlock();
      {
        std::lock_guard fetch_lock(fetch_mutex);
        load(nullptr);
      }
      lock.lock();
    }
  }

  Result verify(std::string_view pass, const Expectation& expect) {
    if (pass.size() > kMaxPassBytes) {
      return refuse(ErrorCode::too_large, "pass is " + std::to_string(pass.size()) +
                                              " bytes, more than " + std::to_string(kMaxPassBytes));
    }
    const std::int64_t now = now_s();
    if (auto cached = cache.find(pass, now)) return check_claims(std::move(cached), expect, now);

    const std::uint64_t epoch = cache.epoch();  // before the key set is read: see PassCache
    auto token = token::parse_jwt(pass);
    if (!token) {
      if (is_unsecured(pass)) {
        return refuse(ErrorCode::algorithm_not_allowed,
                      "pass has no signature: unsecured JWTs (alg none) are never accepted");
      }
      return refuse(ErrorCode::malformed, token.error().detail);
    }
    const auto header_alg = algorithm_named(token->alg);
    if (!header_alg) {
      return refuse(ErrorCode::algorithm_not_allowed,
                    "pass is signed with " + quoted(token->alg) +
                        ": only ES256 and RS256 keys from the JWKS are accepted");
    }
    if (!allowed(expect, *header_alg)) {
      return refuse(ErrorCode::algorithm_not_allowed,
                    std::string(to_string(*header_alg)) + " is not an allowed algorithm here");
    }

    auto key_set = keys.load();
    const PublicKey* key = key_set ? key_set->find(token->kid) : nullptr;
    if (key == nullptr && refresh_for_unknown_kid(key_set)) {
      key_set = keys.load();
      key = key_set ? key_set->find(token->kid) : nullptr;
    }
    if (key == nullptr)
      return refuse(ErrorCode::unknown_kid, "no key with kid " + quoted(token->kid));
    // The key decides the algorithm; a header naming another one is an attack or a mistake.
    if (key->alg() != *header_alg) {
      return refuse(ErrorCode::algorithm_not_allowed,
                    "pass header names " + std::string(to_string(*header_alg)) + " but key " +
                        quoted(key->kid()) + " is an " + std::string(to_string(key->alg())) +
                        " key");
    }
    signature_checks.fetch_add(1, std::memory_order_relaxed);
    if (!key->verify(token->signing_input, token->signature)) {
      return refuse(ErrorCode::bad_signature,
                    "signature does not verify with key " + quoted(key->kid()));
    }

    // Only now, with the payload authentic, is it decoded.
    const auto payload_text = token::base64url_decode(token->payload_b64);
    if (!payload_text) return refuse(ErrorCode::malformed, "pass payload is not base64url");
    boost::system::error_code ec;
    const boost::json::value payload = boost::json::parse(*payload_text, ec);
    if (ec || !payload.is_object())
      return refuse(ErrorCode::malformed, "pass payload is not a JSON object");
    auto claims = decode_claims(payload.as_object(), *key);
    if (!claims) return refuse(ErrorCode::malformed, std::move(claims.error()));

    auto shared = std::make_shared<const Claims>(std::move(*claims));
    cache.insert(pass, shared, saturating_add(shared->exp, kMaxLeeway.count()), now, epoch);
    return check_claims(std::move(shared), expect, now);
  }

  const Options options;
  const std::unique_ptr<detail::JwksSource> source;
  std::atomic<std::shared_ptr<const KeySet>> keys;  // null until a load succeeds
  detail::PassCache cache;

  std::mutex fetch_mutex;  // one load at a time
  std::atomic<SteadyClock::rep> last_attempt{0};
  std::atomic<bool> last_failed{false};
  std::atomic<std::uint64_t> signature_checks{0};
  std::atomic<std::uint64_t> loads{0};
  std::atomic<std::uint64_t> load_failures{0};
  mutable std::mutex status_mutex;  // guards last_error
  std::string last_error;

  std::mutex wake_mutex;  // guards stopping; the refresh thread sleeps on wake_cv
  std::condition_variable wake_cv;
  bool stopping = false;
  std::thread refresher;
};

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Verifier::~Verifier() = default;

std::unique_ptr<Verifier> Verifier::create(Options options, std::string* error) {
  const auto fail = [error](std::string why) -> std::unique_ptr<Verifier> {
    if (error != nullptr) *error = std::move(why);
    return nullptr;
  };
  if (options.refresh_interval < std::chrono::seconds::zero())
    return fail("refresh_interval: must not be negative");
  if (options.min_refresh_interval < std::chrono::seconds::zero())
    return fail("min_refresh_interval: must not be negative");
  auto source = detail::JwksSource::create(options.jwks, options.fetch_timeout, options.ca_file);
  if (!source) return fail(std::move(source.error()));

  auto impl = std::make_unique<Impl>(std::move(options), std::move(*source));
  std::string load_error;
  bool loaded = false;
  {
    std::lock_guard lock(impl->fetch_mutex);
    loaded = impl->load(&load_error);
  }
  if (!loaded && impl->options.require_keys_at_start) return fail(std::move(load_error));
  // The refresh thread: for the schedule, or to retry a failed first load. Without either, keys
  // only change on unknown kids and refresh(), which need no thread.
  if (impl->options.refresh_interval > std::chrono::seconds::zero() || !loaded) {
    try {
      Impl* raw = impl.get();
      impl->refresher = std::thread([raw] { raw->refresh_loop(); });
    } catch (const std::system_error& e) {
      return fail(std::string("cannot start the refresh thread: ") + e.what());
    }
  }
  return std::unique_ptr<Verifier>(new Verifier(std::move(impl)));
}

Result Verifier::verify(std::string_view pass, const Expectation& expect) const {
  return impl_->verify(pass, expect);
}

bool Verifier::refresh(std::string* error) {
  std::lock_guard lock(impl_->fetch_mutex);
  return impl_->load(error);
}

Stats Verifier::stats() const {
  Stats s;
  s.cache_hits = impl_->cache.hits();
  s.signature_checks = impl_->signature_checks.load(std::memory_order_relaxed);
  s.jwks_loads = impl_->loads.load(std::memory_order_relaxed);
  s.jwks_load_failures = impl_->load_failures.load(std::memory_order_relaxed);
  const auto key_set = impl_->keys.load();
  s.keys = key_set ? key_set->keys.size() : 0;
  s.cache_entries = impl_->cache.size();
  std::lock_guard lock(impl_->status_mutex);
  s.last_error = impl_->last_error;
  return s;
}

}  // namespace waitroom::verify
