#pragma once
// Why a room's line is not moving now, as the server sees it (admin stats' "line"): the first of
// these that applies, in this order, or none when the policy lets visitors in.
#include <cstdint>
#include <optional>
#include <string_view>

namespace waitroom::core {

enum class LineReason : std::uint8_t {
  paused,          // the room's state is paused
  queue_all,       // the room's state is queue_all
  prequeue,        // a scheduled event's pre-queue is open: nobody goes in before its start
  nobody_waiting,  // there is no line
  manual,          // manual mode: only an operator's advance moves it
  not_started,     // the policy's admission.start is still ahead
  closed,          // the policy's admission.end has passed
  max_active,      // max_active places are held (active sessions plus unclaimed turns)
  capacity,        // capacity mode: total_active held, or new_per_minute used in the last minute
  drawing_full,    // a drawing's turns are all taken: its waitlist waits for one to come free
  site_health,     // adaptive: the places its controller allows the site now are all held
  sold_out,        // the room's inventory is at 0
  inventory_reserved,  // every item left is reserved by the places held (reserve_per_session)
};

std::string_view to_string(LineReason reason);

struct LineStatus {
  std::optional<LineReason> stopped;  // none: moving
  bool moving() const { return !stopped; }
};

}  // namespace waitroom::core
