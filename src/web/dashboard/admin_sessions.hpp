#pragma once
// The dashboard's signed-in sessions, in memory (a restart signs everyone out). A session is an
// opaque random id (the cookie) with its own CSRF token. The table is keyed by the id's SHA-256,
// so neither a memory dump nor a timing probe of the lookup gives a usable cookie away. A session
// ends when unused for the idle timeout, at its lifetime from sign-in, or on sign-out; when the
// table is full, signing in ends the least recently used session. Each session remembers who
// signed it in (the admin key or an operator token, api::SessionCaller).
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/admin_session.hpp"
#include "core/clock.hpp"

namespace waitroom::web::dashboard {

struct SessionLimits {
  std::int64_t idle_timeout_s = 8 * 3600;
  std::int64_t lifetime_s = 24 * 3600;
  std::size_t max_sessions = 100;
};

struct NewSession {
  std::string id;          // the cookie's value: 256 random bits, base64url
  std::string csrf_token;  // 256 random bits, base64url
};

// A live session: its CSRF token and who signed it in.
struct LiveSession {
  std::string csrf_token;
  api::SessionCaller caller;
};

class AdminSessions {
 public:
  AdminSessions(SessionLimits limits, const core::Clock& clock);

  NewSession create(api::SessionCaller caller);
  // The session when `id` names a live one, which counts as a use of it.
  std::optional<LiveSession> find(std::string_view id);
  void remove(std::string_view id);
  std::size_t size() const;

 private:
  struct Entry {
    LiveSession session;
    std::int64_t created_ms = 0;
    std::int64_t last_used_ms = 0;
  };
  bool expired(const Entry& e, std::int64_t now_ms) const;

  const SessionLimits limits_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // SHA-256 of the id -> session
};

// 256 bits from OpenSSL's generator, base64url without padding.
std::string random_token();
// Compares two secrets in time that depends on neither's content nor length (both are hashed
// first, then compared with CRYPTO_memcmp).
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace waitroom::web::dashboard
