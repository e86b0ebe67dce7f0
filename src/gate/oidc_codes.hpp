#pragma once
// The OIDC adapter's authorization codes: random, single-use, bound to what the authorization
// request said, and short-lived. They live only in this process's memory: a code lasts 60 s, so
// a restart costs at most the logins in flight, which the relying party simply starts again.
// (With several Waitroom nodes, the relying party's token call must reach the node that issued
// the code: docs/integrations.md.)
#include <cstddef>
#include <cstdint>
#include <expected>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace waitroom::gate {

inline constexpr std::int64_t kCodeLifetimeMs = 60'000;
// A spent code is remembered this long after it was issued, so that a replay is recognised (and
// the tokens it bought are revoked) rather than merely "unknown".
inline constexpr std::int64_t kSpentCodeMemoryMs = 10 * 60'000;
// Codes and spent-code memories held at once; when full, new logins are refused until some
// expire (temporarily_unavailable), never memory without bound.
inline constexpr std::size_t kMaxCodes = 100'000;
inline constexpr std::size_t kCodeBytes = 32;  // 256 random bits, base64url

// What an authorization request established, handed to the token endpoint through the code.
struct CodeGrant {
  std::string room;
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;  // S256; empty when the client sent none (confidential clients only)
  std::string nonce;           // empty when none was sent
  std::string ticket;          // the admitted visitor's ticket and pass, to check at the token
  std::string pass;            // endpoint that the admission is still live
  std::uint64_t position = 0;
  std::int64_t auth_time_s = 0;
  std::int64_t pass_expires_at_s = 0;
  std::string access_jti;  // the jti the access token will carry, so a replay can revoke it
};

enum class RedeemError : std::uint8_t {
  unknown,  // never issued, or forgotten
  expired,  // older than kCodeLifetimeMs
  reused,   // already redeemed: its access token is now revoked
};

// Thread-safe; every call takes one mutex for a short, allocation-light critical section.
class OidcCodes {
 public:
  explicit OidcCodes(std::size_t max_codes = kMaxCodes) : max_codes_(max_codes) {}

  // A fresh code for `grant` (kCodeBytes from the CSPRNG, unrelated to the ticket), or nullopt
  // when the table is full or no randomness could be had.
  std::optional<std::string> issue(CodeGrant grant, std::int64_t now_ms);

  // The grant, exactly once: the first call spends the code whatever the caller decides next, so
  // a code tried with the wrong client, redirect URI or verifier cannot be tried again.
  std::expected<CodeGrant, RedeemError> redeem(std::string_view code, std::int64_t now_ms);

  // Whether an access token's jti was revoked by the replay of its code.
  bool is_revoked(std::string_view jti, std::int64_t now_ms) const;

  std::size_t size() const;

 private:
  struct Entry {
    CodeGrant grant;
    std::int64_t issued_at_ms = 0;
    bool spent = false;
  };
  void purge(std::int64_t now_ms);  // caller holds mu_

  const std::size_t max_codes_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> codes_;
  std::unordered_map<std::string, std::int64_t> revoked_;  // jti -> until (ms)
  std::size_t issued_since_purge_ = 0;
};

}  // namespace waitroom::gate
