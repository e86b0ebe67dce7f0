#pragma once
// A room's priority lanes (docs/admission.md, "Lanes"): ordered lines beside the default one, each
// with its share of every admission step. A lane has its own positions in line (its own `ahead`),
// so a visitor who joins a lane late never moves anyone in another lane back. Who gets into a
// lane is decided at the join (a code, an invitation); this file is only the lanes' rules.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace waitroom::core {

// Lane numbers fit a ticket's slot (a byte): 0 is the default lane, lane i is lanes[i - 1].
inline constexpr std::size_t kMaxLanes = 8;
inline constexpr std::uint8_t kDefaultLane = 0;
inline constexpr std::string_view kDefaultLaneName = "default";

struct Lane {
  std::string name;
  double share = 0;  // of each admission step, in (0, 1)

  bool operator==(const Lane&) const = default;
};
using Lanes = std::vector<Lane>;

// At most kMaxLanes lanes, names like a room's and not "default", unique, shares in (0, 1)
// adding up to less than 1: the default lane keeps the rest, so it always moves.
Result<void> validate(const Lanes& lanes);

// The lane called `name` ("default" is lane 0), or nullopt.
std::optional<std::uint8_t> lane_number(const Lanes& lanes, std::string_view name);
std::string_view lane_name(const Lanes& lanes, std::uint8_t lane);

// Per lane number: whether anyone waits in it (default lane included).
using LaneFlags = std::array<bool, kMaxLanes + 1>;
using LaneShares = std::array<double, kMaxLanes + 1>;

// The share of admissions each lane gets while `busy` says who waits: its own share, plus the
// shares of the idle lanes just before it (an unused share flows to the next lane in order, and
// from the last lane to the default one). Idle lanes get 0; the busy ones add up to 1.
LaneShares effective_shares(const Lanes& lanes, const LaneFlags& busy);

// `ahead` visitors in a lane served at `share` of the admissions wait as long as ahead / share
// visitors would in one line: the number the line's pace is applied to.
std::uint64_t in_whole_line(std::uint64_t ahead, double share);

// Picks the lane of each admission so that, over any stretch, each busy lane gets its effective
// share within one admission (smooth weighted round-robin, as nginx balances upstreams). The
// credits are a cache, not state: after a restart the first picks may differ, the shares do not.
class LanePicker {
 public:
  // Requires at least one busy lane.
  std::uint8_t pick(const Lanes& lanes, const LaneFlags& busy);
  void clear() { credit_ = {}; }

 private:
  LaneShares credit_{};
};

}  // namespace waitroom::core
