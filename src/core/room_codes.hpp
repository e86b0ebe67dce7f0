#pragma once
// A room's access codes (docs/admission.md, "Codes"): an operator hands out codes that put their
// holder in a lane or let them in at once. Single-use or good for a count of joins, optionally
// until a time. The room keeps only each code's SHA-256, never the code: whoever reads the log or
// a snapshot cannot use one. Codes are the room's state, changed by operations and logged like any
// other (engine/room_ops.hpp), so a single-use code raced by many joins admits exactly one: the
// room's joins are applied one at a time. A reset of the line keeps them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::core {

inline constexpr std::size_t kMaxCodesPerRoom = 10'000;
inline constexpr std::uint64_t kMaxCodeUses = 1'000'000'000;
// A code given by the operator: 6-64 of A-Z, a-z, 0-9 and '-'. Case and dashes are not part of
// it (a visitor may type "vip-2026-ab" for "VIP2026AB").
inline constexpr std::size_t kMinCodeChars = 6;
inline constexpr std::size_t kMaxCodeChars = 64;
// A generated code: 16 characters of Crockford's base32, 80 bits, shown as four groups of four.
inline constexpr std::size_t kGeneratedCodeChars = 16;

struct AccessCode {
  std::string id;          // public: names the code in lists, events and revocations
  std::string hash;        // sha256_hex of the normalized code
  std::uint64_t uses = 1;  // joins it is good for in all
  std::uint64_t used = 0;
  std::optional<std::int64_t> expires_at_s;
  std::string lane;    // the lane it puts its holder in ("" with admit)
  bool admit = false;  // lets its holder in at once instead
  std::int64_t created_at_s = 0;
  bool revoked = false;

  bool operator==(const AccessCode&) const = default;
};

// Why a code is refused (RoomCodes::check), word for word: the room page tells them apart.
inline constexpr std::string_view kCodeUnknown = "this code is not valid here";
inline constexpr std::string_view kCodeWithdrawn = "this code was withdrawn";
inline constexpr std::string_view kCodeExpired = "this code has expired";
inline constexpr std::string_view kCodeUsedUp = "this code has been used up";

// What a code does for the join that used it.
struct CodeGrant {
  std::string id;
  std::string lane;
  bool admit = false;
};

// The code a visitor typed, as it is hashed: dashes and spaces dropped, letters upper-cased.
// Refused when what is left is not 6-64 of A-Z and 0-9.
Result<std::string> normalize_code(std::string_view typed);
// A new random code (kGeneratedCodeChars of base32, grouped "ABCD-EFGH-JKMN-PQRS").
std::string generate_code();

class RoomCodes {
 public:
  // Refused when the room holds kMaxCodesPerRoom codes or one with the same id or hash.
  Result<void> add(AccessCode code);
  // Whether the code with `hash` may be used at `now_s`, and what it grants. The messages say
  // why not (unknown, revoked, used up, expired): a visitor who typed it wants to know.
  Result<CodeGrant> check(std::string_view hash, std::int64_t now_s) const;
  // Counts one use (replay too); false when there is no such code.
  bool use(std::string_view id);
  // A revoked code stays listed, and refused, so operators see what was handed out; revoking
  // twice is a no-op. False when there is no such code.
  bool revoke(std::string_view id);
  const AccessCode* find(std::string_view id) const;
  const AccessCode* find_by_hash(std::string_view hash) const;
  const std::vector<AccessCode>& all() const { return codes_; }
  bool empty() const { return codes_.empty(); }

 private:
  AccessCode* find_mutable(std::string_view id);
  std::vector<AccessCode> codes_;  // in the order they were created
};

}  // namespace waitroom::core
