#include "gate/oidc_codes.hpp"

#include <openssl/rand.h>

#include "token/base64url.hpp"

namespace waitroom::gate {

namespace {
// Sweep forgotten entries every so many issues, so the table does not wait to be full to shrink.
constexpr std::size_t kPurgeEveryIssues = 1024;
}  // namespace

std::optional<std::string> OidcCodes::issue(CodeGrant grant, std::int64_t now_ms) {
  unsigned char bytes[kCodeBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  std::string code =
      token::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  std::lock_guard lock(mu_);
  if (++issued_since_purge_ >= kPurgeEveryIssues || codes_.size() + revoked_.size() >= max_codes_)
    purge(now_ms);
  if (codes_.size() + revoked_.size() >= max_codes_) return std::nullopt;
  codes_.emplace(code, Entry{std::move(grant), now_ms, false});
  return code;
}

std::expected<CodeGrant, RedeemError> OidcCodes::redeem(std::string_view code,
                                                        std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(std::string(code));
  if (it == codes_.end() || now_ms - it->second.issued_at_ms >= kSpentCodeMemoryMs)
    return std::unexpected(RedeemError::unknown);
  Entry& e = it->second;
  if (e.spent) {
    // RFC 6749 section 4.1.2: a code used twice was stolen or replayed; what it bought is void.
    if (!e.grant.access_jti.empty())
      revoked_.emplace(e.grant.access_jti, (e.grant.pass_expires_at_s + 1) * 1000);
    return std::unexpected(RedeemError::reused);
  }
  e.spent = true;
  if (now_ms - e.issued_at_ms >= kCodeLifetimeMs) {
    e.grant.access_jti.clear();  // it bought nothing
    return std::unexpected(RedeemError::expired);
  }
  CodeGrant out = e.grant;
  // Only what a replay needs stays in memory.
  e.grant = CodeGrant{};
  e.grant.access_jti = out.access_jti;
  e.grant.pass_expires_at_s = out.pass_expires_at_s;
  return out;
}

bool OidcCodes::is_revoked(std::string_view jti, std::int64_t now_ms) const {
  std::lock_guard lock(mu_);
  auto it = revoked_.find(std::string(jti));
  return it != revoked_.end() && now_ms < it->second;
}

std::size_t OidcCodes::size() const {
  std::lock_guard lock(mu_);
  return codes_.size() + revoked_.size();
}

void OidcCodes::purge(std::int64_t now_ms) {
  issued_since_purge_ = 0;
  // An unspent code is dropped once it expires (nothing to remember: it bought nothing); a spent
  // one is kept for the replay window.
  std::erase_if(codes_, [&](const auto& kv) {
    const std::int64_t age_ms = now_ms - kv.second.issued_at_ms;
    return age_ms >= (kv.second.spent ? kSpentCodeMemoryMs : kCodeLifetimeMs);
  });
  std::erase_if(revoked_, [&](const auto& kv) { return now_ms >= kv.second; });
}

}  // namespace waitroom::gate
