#pragma once
// Operator tokens (docs/admin-api.md, "Operator tokens"): named bearer tokens for the admin API,
// each with a role and, optionally, the rooms it is limited to and an expiry. Only a hash of a
// token's secret is kept; the token itself is shown once, when it is created.
//
// A token reads "wrt_<id>_<secret>": the id (16 hex digits) names it in lists, logs and the audit
// trail; the secret is 32 random bytes in base64url.
//
// Kept where the rooms are: DATA_DIR/tokens.json (written atomically), or a Redis hash
// (PREFIX:tokens, id -> JSON) that every node reads at each use, so a revoked token is refused at
// once everywhere.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::store {

// What a token may do; each includes the ones before it.
enum class OperatorRole : std::uint8_t { viewer = 1, operator_ = 2, admin = 3 };
std::string_view role_name(OperatorRole role);
std::optional<OperatorRole> parse_role(std::string_view name);
// "a viewer", "an operator", "an admin": for messages.
std::string a_role(OperatorRole role);

struct OperatorToken {
  std::string id;
  std::string name;
  OperatorRole role = OperatorRole::viewer;
  std::vector<std::string> rooms;  // empty: every room
  std::int64_t created_at_s = 0;
  std::int64_t expires_at_s = 0;  // 0: never
  std::int64_t revoked_at_s = 0;  // 0: not revoked
  std::int64_t last_used_s = 0;   // to within kLastUsedStepS; 0: never
  std::string secret_sha256;      // lowercase hex

  bool may_use_room(std::string_view room) const;
  bool live(std::int64_t now_s) const {
    return revoked_at_s == 0 && (expires_at_s == 0 || now_s < expires_at_s);
  }
};

std::string encode_token(const OperatorToken& token);  // JSON
core::Result<OperatorToken> decode_token(std::string_view json);

// A new token's id, secret and text ("wrt_<id>_<secret>").
struct NewTokenSecret {
  std::string id;
  std::string secret;
  std::string text;
};
NewTokenSecret new_token_secret();
// The id and secret of a token's text; nullopt when it is not shaped like one.
std::optional<std::pair<std::string, std::string>> split_token(std::string_view text);
std::string secret_hash(std::string_view secret);  // lowercase hex SHA-256

// A token's last use is kept to within this: a token used all day costs a write a minute.
inline constexpr std::int64_t kLastUsedStepS = 60;

class OperatorTokens {
 public:
  virtual ~OperatorTokens() = default;
  // Notes that the token was used now; kept when it moves its last use by kLastUsedStepS or more.
  // An error is the store's; the request that used the token goes on regardless.
  virtual core::Result<void> used(const std::string& id, std::int64_t now_s) = 0;
  // Creates or replaces the token with its id (a revoke writes it again, revoked).
  virtual core::Result<void> put(const OperatorToken& token) = 0;
  virtual core::Result<std::optional<OperatorToken>> find(const std::string& id) = 0;
  virtual core::Result<std::vector<OperatorToken>> list() = 0;
};

// The embedded store's: DATA_DIR/tokens.json, one JSON object per line, rewritten atomically on
// each change (tokens change rarely), read once at start and kept in memory.
class OperatorTokenFile final : public OperatorTokens {
 public:
  static core::Result<std::unique_ptr<OperatorTokenFile>> open(std::filesystem::path file);

  core::Result<void> used(const std::string& id, std::int64_t now_s) override;
  core::Result<void> put(const OperatorToken& token) override;
  core::Result<std::optional<OperatorToken>> find(const std::string& id) override;
  core::Result<std::vector<OperatorToken>> list() override;

 private:
  explicit OperatorTokenFile(std::filesystem::path file) : file_(std::move(file)) {}

  const std::filesystem::path file_;
  std::mutex mu_;
  std::map<std::string, OperatorToken> tokens_;

  core::Result<void> write(const std::map<std::string, OperatorToken>& tokens);
};

}  // namespace waitroom::store
