#include "web/dashboard/admin_sessions.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "token/base64url.hpp"

namespace waitroom::web::dashboard {

namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::int64_t kMsPerS = 1000;

std::string sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

}  // namespace

std::string random_token() {
  std::array<unsigned char, kTokenBytes> bytes{};
  // RAND_bytes fails only when OpenSSL cannot seed itself; a session must never get a guessable
  // id, so that is an error rather than a fallback.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no randomness for a session id");
  return token::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool secrets_equal(std::string_view a, std::string_view b) {
  const std::string ha = sha256(a);
  const std::string hb = sha256(b);
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

AdminSessions::AdminSessions(SessionLimits limits, const core::Clock& clock)
    : limits_(limits), clock_(clock) {}

bool AdminSessions::expired(const Entry& e, std::int64_t now_ms) const {
  return now_ms - e.last_used_ms >= limits_.idle_timeout_s * kMsPerS ||
         now_ms - e.created_ms >= limits_.lifetime_s * kMsPerS;
}

NewSession AdminSessions::create(api::SessionCaller caller) {
  NewSession s{random_token(), random_token()};
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mu_);
  std::erase_if(sessions_, [&](const auto& kv) { return expired(kv.second, now); });
  if (limits_.max_sessions > 0 && sessions_.size() >= limits_.max_sessions) {
    auto lru = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.last_used_ms < lru->second.last_used_ms) lru = it;
    sessions_.erase(lru);
  }
  sessions_.emplace(sha256(s.id), Entry{{s.csrf_token, std::move(caller)}, now, now});
  return s;
}

std::optional<LiveSession> AdminSessions::find(std::string_view id) {
  if (id.empty()) return std::nullopt;
  const std::string key = sha256(id);
  const std::int64_t now = clock_.now_ms();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used_ms = now;
  return it->second.session;
}

void AdminSessions::remove(std::string_view id) {
  const std::string key = sha256(id);
  std::lock_guard lock(mu_);
  sessions_.erase(key);
}

std::size_t AdminSessions::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace waitroom::web::dashboard
