#include "engine/invitation_ops.hpp"

#include <algorithm>
#include <string>

#include "core/lanes.hpp"

namespace waitroom::engine {

using core::ErrorCode;
using core::fail;

core::Result<InvitationUse> check_invitation(core::Room& rm, const token::Invitation& invitation,
                                             std::optional<std::uint64_t> waiting,
                                             std::int64_t now_s) {
  const auto places = rm.invitations().places(invitation.sub);
  if (waiting && std::find(places.begin(), places.end(), *waiting) != places.end())
    return InvitationUse{rm.ticket(*waiting, now_s).lane, *waiting, false};
  if (rm.invitations().used(invitation.jti))
    return fail(ErrorCode::unauthorized,
                "invitation was used already: each invitation (its jti) is good for one join");
  InvitationUse use;
  use.uses_jti = !invitation.jti.empty();  // a sign-in has none
  if (invitation.lane) {
    auto lane = core::lane_number(rm.settings().lanes, *invitation.lane);
    if (!lane)
      return fail(ErrorCode::unauthorized, "invitation names lane \"" + *invitation.lane +
                                               "\", which room " + rm.name() + " does not have");
    use.lane = *lane;
  }
  std::int64_t live = 0;
  for (std::uint64_t p : places) {
    if (!rm.has_ticket(p) || !core::is_live(rm.ticket(p, now_s).status)) continue;
    ++live;
    use.place = p;  // the latest live one
  }
  if (live < rm.settings().max_places_per_identity) use.place.reset();
  return use;
}

}  // namespace waitroom::engine
