#include "core/lanes.hpp"

#include <cmath>

#include "core/room_settings.hpp"

namespace waitroom::core {

Result<void> validate(const Lanes& lanes) {
  if (lanes.size() > kMaxLanes)
    return fail(ErrorCode::bad_request,
                "lanes: at most " + std::to_string(kMaxLanes) + " besides the default lane");
  double total = 0;
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    const Lane& lane = lanes[i];
    const std::string field = "lanes[" + std::to_string(i) + "]";
    if (!is_valid_room_name(lane.name) || lane.name == kDefaultLaneName)
      return fail(ErrorCode::bad_request,
                  field + ".name must be 1-64 of A-Z a-z 0-9 _ - and not \"default\"");
    for (std::size_t j = 0; j < i; ++j)
      if (lanes[j].name == lane.name)
        return fail(ErrorCode::bad_request, field + ".name \"" + lane.name + "\" is used twice");
    if (!(lane.share > 0 && lane.share < 1))
      return fail(ErrorCode::bad_request, field + ".share must be above 0 and below 1");
    total += lane.share;
  }
  if (total >= 1)
    return fail(ErrorCode::bad_request,
                "lanes: the shares must add up to less than 1 (the default lane keeps the rest)");
  return {};
}

std::optional<std::uint8_t> lane_number(const Lanes& lanes, std::string_view name) {
  if (name == kDefaultLaneName) return kDefaultLane;
  for (std::size_t i = 0; i < lanes.size(); ++i)
    if (lanes[i].name == name) return static_cast<std::uint8_t>(i + 1);
  return std::nullopt;
}

std::string_view lane_name(const Lanes& lanes, std::uint8_t lane) {
  if (lane == kDefaultLane || lane > lanes.size()) return kDefaultLaneName;
  return lanes[lane - 1].name;
}

LaneShares effective_shares(const Lanes& lanes, const LaneFlags& busy) {
  LaneShares shares{};
  double carried = 0;  // shares of idle lanes, flowing down to the next busy one
  double rest = 1;
  for (std::size_t i = 0; i < lanes.size() && i < kMaxLanes; ++i) {
    rest -= lanes[i].share;
    if (busy[i + 1]) {
      shares[i + 1] = lanes[i].share + carried;
      carried = 0;
    } else {
      carried += lanes[i].share;
    }
  }
  if (busy[kDefaultLane]) {
    shares[kDefaultLane] = rest + carried;
  } else {
    // Nobody in the default lane: its share and what flowed to it go to the busy lanes, in
    // proportion.
    double busy_total = 0;
    for (double s : shares) busy_total += s;
    if (busy_total > 0)
      for (double& s : shares) s += s / busy_total * (rest + carried);
  }
  return shares;
}

std::uint64_t in_whole_line(std::uint64_t ahead, double share) {
  if (share >= 1 || share <= 0) return ahead;
  return static_cast<std::uint64_t>(std::ceil(static_cast<double>(ahead) / share));
}

std::uint8_t LanePicker::pick(const Lanes& lanes, const LaneFlags& busy) {
  const LaneShares shares = effective_shares(lanes, busy);
  std::size_t best = kMaxLanes + 1;
  for (std::size_t i = 0; i <= kMaxLanes; ++i) {
    if (shares[i] <= 0) {
      credit_[i] = 0;  // an idle lane saves up no turns for later
      continue;
    }
    credit_[i] += shares[i];
    if (best > kMaxLanes || credit_[i] > credit_[best]) best = i;
  }
  if (best > kMaxLanes) return kDefaultLane;
  credit_[best] -= 1;  // the busy shares add up to 1
  return static_cast<std::uint8_t>(best);
}

}  // namespace waitroom::core
