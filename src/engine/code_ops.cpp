#include "engine/code_ops.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "core/hex.hpp"
#include "core/rfc3339.hpp"

namespace waitroom::engine {

using core::ErrorCode;
using core::fail;

namespace {
constexpr int kIdBytes = 6;
// Generated codes are 80 bits: a clash with the room's others is a sign of a broken generator.
constexpr int kGenerateAttempts = 4;

std::string new_code_id() {
  std::array<unsigned char, kIdBytes> random{};
  if (RAND_bytes(random.data(), kIdBytes) != 1) throw std::runtime_error("RAND_bytes failed");
  return core::lower_hex(std::string_view(reinterpret_cast<const char*>(random.data()), kIdBytes));
}

boost::json::object code_event(const core::AccessCode& c) {
  return {{"code", c.id},
          {"uses", c.uses},
          {"lane", c.admit ? boost::json::value(nullptr) : boost::json::value(c.lane)},
          {"admit", c.admit},
          {"expires_at", c.expires_at_s ? boost::json::value(core::format_rfc3339(*c.expires_at_s))
                                        : boost::json::value(nullptr)}};
}
}  // namespace

core::Result<CreatedCode> add_code(core::Room& rm, const OpContext& ctx, NewCode in, Effects& fx) {
  const std::int64_t now = ctx.clock.now_s();
  if (in.admit == !in.lane.empty())
    return fail(ErrorCode::bad_request,
                "a code either names a \"lane\" of the room or has \"admit\": true");
  if (!in.admit) {
    const auto lane = core::lane_number(rm.settings().lanes, in.lane);
    if (!lane || *lane == core::kDefaultLane)
      return fail(ErrorCode::bad_request, "this room has no lane \"" + in.lane + "\"");
  }
  if (in.uses < 1 || in.uses > core::kMaxCodeUses)
    return fail(ErrorCode::bad_request,
                "uses must be from 1 to " + std::to_string(core::kMaxCodeUses));
  if (in.expires_at_s && *in.expires_at_s <= now)
    return fail(ErrorCode::bad_request, "expires_at is in the past");
  std::string text;
  std::string hash;
  if (in.code) {
    auto normalized = core::normalize_code(*in.code);
    if (!normalized) return std::unexpected(normalized.error());
    text = std::move(*in.code);
    hash = core::sha256_hex(*normalized);
  } else {
    for (int i = 0; i < kGenerateAttempts && (hash.empty() || rm.codes().find_by_hash(hash)); ++i) {
      text = core::generate_code();
      hash = core::sha256_hex(*core::normalize_code(text));
    }
  }
  core::AccessCode code;
  code.id = new_code_id();
  code.hash = hash;
  code.uses = in.uses;
  code.expires_at_s = in.expires_at_s;
  code.lane = in.lane;
  code.admit = in.admit;
  code.created_at_s = now;
  if (auto added = rm.codes().add(code); !added) return std::unexpected(added.error());
  fx.record(CodeAddedRecord{rm.name(), code.id, code.hash, code.uses, code.expires_at_s.value_or(0),
                            code.lane, code.admit, now});
  fx.event(rm.name(), "code.created", code_event(code), ctx.clock.now_ms());
  return CreatedCode{std::move(code), std::move(text)};
}

core::Result<core::AccessCode> revoke_code(core::Room& rm, const OpContext& ctx,
                                           const std::string& id, Effects& fx) {
  const core::AccessCode* code = rm.codes().find(id);
  if (!code) return fail(ErrorCode::not_found, "this room has no code \"" + id + "\"");
  if (code->revoked) return *code;  // nothing to write
  rm.codes().revoke(id);
  fx.record(CodeRevokedRecord{rm.name(), id});
  fx.event(rm.name(), "code.revoked", code_event(*code), ctx.clock.now_ms());
  return *code;
}

core::Result<CodeUse> check_code(const core::Room& rm, std::string_view typed, std::int64_t now_s) {
  auto normalized = core::normalize_code(typed);
  if (!normalized) return std::unexpected(normalized.error());
  auto grant = rm.codes().check(core::sha256_hex(*normalized), now_s);
  if (!grant) return std::unexpected(grant.error());
  if (grant->admit) return CodeUse{grant->id, std::nullopt};
  const auto lane = core::lane_number(rm.settings().lanes, grant->lane);
  if (!lane)
    return fail(ErrorCode::conflict,
                "this code's lane \"" + grant->lane + "\" is no longer in the room");
  return CodeUse{grant->id, *lane};
}

}  // namespace waitroom::engine
