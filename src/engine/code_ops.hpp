#pragma once
// The operations on a room's access codes (core/room_codes.hpp), written once for both stores like
// those of engine/room_ops.hpp. Using a code is part of a join (engine::enqueue).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/room.hpp"
#include "engine/effects.hpp"
#include "engine/room_ops.hpp"

namespace waitroom::engine {

struct NewCode {
  std::optional<std::string> code;  // the operator's own text; none: one is generated
  std::uint64_t uses = 1;
  std::optional<std::int64_t> expires_at_s;
  std::string lane;    // a lane of the room's
  bool admit = false;  // or straight in
};

struct CreatedCode {
  core::AccessCode code;
  std::string text;  // shown in the creation's answer only: the room keeps its hash
};

// Refused (bad_request) when it names no lane of the room and does not admit, names both, has
// uses outside 1..kMaxCodeUses or an expiry already past; (conflict) when the room has that code
// or kMaxCodesPerRoom already.
core::Result<CreatedCode> add_code(core::Room& room, const OpContext& ctx, NewCode code,
                                   Effects& fx);
// not_found when the room has no code `id`.
core::Result<core::AccessCode> revoke_code(core::Room& room, const OpContext& ctx,
                                           const std::string& id, Effects& fx);

// What a code typed at a join grants in `room` now: its id, and the lane it puts its holder in
// (nullopt: admitted at once). Refused as core::RoomCodes::check does, or (conflict) when its lane
// was taken out of the room since.
struct CodeUse {
  std::string id;
  std::optional<std::uint8_t> lane;
};
core::Result<CodeUse> check_code(const core::Room& room, std::string_view typed,
                                 std::int64_t now_s);

}  // namespace waitroom::engine
