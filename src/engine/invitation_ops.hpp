#pragma once
// What an invitation (token/invitation.hpp, verified before the room's lock) grants at a join,
// decided with the room's state under its lock: its jti used once, its lane, and the places its
// identity holds (one place per person: max_places_per_identity). Part of engine::enqueue.
#include <cstdint>
#include <optional>

#include "core/error.hpp"
#include "core/room.hpp"
#include "token/invitation.hpp"

namespace waitroom::engine {

struct InvitationUse {
  std::uint8_t lane = core::kDefaultLane;  // where a new place goes
  // The identity's place to answer with instead of a new one: the latest of its live places
  // when it holds as many as the room allows, or the visitor's own waiting ticket when it is
  // the identity's already (sent again: a reload, a double click).
  std::optional<std::uint64_t> place;
  // False for the visitor's own place (nothing new was taken) and for a sign-in (no jti).
  bool uses_jti = true;
};

// `waiting`: the visitor's own waiting ticket, if any. Refused (unauthorized) when the jti was
// used already or the invitation names a lane the room does not have.
core::Result<InvitationUse> check_invitation(core::Room& room, const token::Invitation& invitation,
                                             std::optional<std::uint64_t> waiting,
                                             std::int64_t now_s);

}  // namespace waitroom::engine
