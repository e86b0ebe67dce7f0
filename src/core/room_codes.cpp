#include "core/room_codes.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <utility>

namespace waitroom::core {

namespace {
// Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper comes out right.
constexpr std::string_view kBase32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kGroupChars = 4;
}  // namespace

Result<std::string> normalize_code(std::string_view typed) {
  std::string code;
  code.reserve(typed.size());
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return fail(ErrorCode::bad_request, "a code is made of letters, digits and dashes");
    code.push_back(c);
  }
  if (code.size() < kMinCodeChars || code.size() > kMaxCodeChars)
    return fail(ErrorCode::bad_request, "a code has " + std::to_string(kMinCodeChars) + " to " +
                                            std::to_string(kMaxCodeChars) + " letters and digits");
  return code;
}

std::string generate_code() {
  std::array<unsigned char, kGeneratedCodeChars> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  std::string code;
  for (std::size_t i = 0; i < random.size(); ++i) {
    if (i > 0 && i % kGroupChars == 0) code.push_back('-');
    code.push_back(kBase32[random[i] % kBase32.size()]);  // 256 is a multiple of 32: no bias
  }
  return code;
}

Result<void> RoomCodes::add(AccessCode code) {
  if (codes_.size() >= kMaxCodesPerRoom)
    return fail(ErrorCode::conflict, "this room holds " + std::to_string(kMaxCodesPerRoom) +
                                         " codes already; revoke some first");
  if (find(code.id) || find_by_hash(code.hash))
    return fail(ErrorCode::conflict, "this room has that code already");
  codes_.push_back(std::move(code));
  return {};
}

Result<CodeGrant> RoomCodes::check(std::string_view hash, std::int64_t now_s) const {
  const AccessCode* it = find_by_hash(hash);
  if (!it) return fail(ErrorCode::forbidden, std::string(kCodeUnknown));
  if (it->revoked) return fail(ErrorCode::forbidden, std::string(kCodeWithdrawn));
  if (it->expires_at_s && now_s >= *it->expires_at_s)
    return fail(ErrorCode::forbidden, std::string(kCodeExpired));
  if (it->used >= it->uses) return fail(ErrorCode::forbidden, std::string(kCodeUsedUp));
  return CodeGrant{it->id, it->lane, it->admit};
}

bool RoomCodes::use(std::string_view id) {
  AccessCode* c = find_mutable(id);
  if (!c) return false;
  ++c->used;
  return true;
}

bool RoomCodes::revoke(std::string_view id) {
  AccessCode* c = find_mutable(id);
  if (!c) return false;
  c->revoked = true;
  return true;
}

const AccessCode* RoomCodes::find(std::string_view id) const {
  for (const AccessCode& c : codes_)
    if (c.id == id) return &c;
  return nullptr;
}

const AccessCode* RoomCodes::find_by_hash(std::string_view hash) const {
  for (const AccessCode& c : codes_)
    if (c.hash == hash) return &c;
  return nullptr;
}

AccessCode* RoomCodes::find_mutable(std::string_view id) {
  return const_cast<AccessCode*>(std::as_const(*this).find(id));
}

}  // namespace waitroom::core
