#include "core/room_invitations.hpp"

#include <algorithm>

namespace waitroom::core {

void RoomInvitations::use(std::string jti, std::int64_t exp_s, std::int64_t now_s,
                          std::int64_t forget_after_s) {
  if (jti.empty()) return;  // a sign-in's place: nothing to use up
  used_[std::move(jti)] = exp_s;
  if (used_.size() < prune_at_) return;
  std::erase_if(used_, [&](const auto& entry) { return entry.second + forget_after_s < now_s; });
  // Looked for again once the map has doubled: pruning stays amortized O(1) a use.
  prune_at_ = std::max<std::size_t>(1024, 2 * used_.size());
}

std::span<const std::uint64_t> RoomInvitations::places(std::string_view sub) const {
  auto it = places_.find(std::string(sub));
  if (it == places_.end()) return {};
  return it->second;
}

void RoomInvitations::add_place(std::string sub, std::uint64_t position) {
  std::vector<std::uint64_t>& positions = places_[std::move(sub)];
  // A join answered with the place the identity holds records that place again.
  if (std::find(positions.begin(), positions.end(), position) == positions.end())
    positions.push_back(position);
  owned_.insert(position);
}

std::vector<UsedInvitation> RoomInvitations::used_list() const {
  std::vector<UsedInvitation> out;
  out.reserve(used_.size());
  for (const auto& [jti, exp] : used_) out.push_back({jti, exp});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.jti < b.jti; });
  return out;
}

std::vector<IdentityPlaces> RoomInvitations::places_list() const {
  std::vector<IdentityPlaces> out;
  out.reserve(places_.size());
  for (const auto& [sub, positions] : places_) out.push_back({sub, positions});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.sub < b.sub; });
  return out;
}

void RoomInvitations::restore(std::vector<UsedInvitation> used,
                              std::vector<IdentityPlaces> places) {
  used_.clear();
  places_.clear();
  for (UsedInvitation& u : used) used_[std::move(u.jti)] = u.exp_s;
  owned_.clear();
  for (IdentityPlaces& p : places) {
    owned_.insert(p.positions.begin(), p.positions.end());
    places_[std::move(p.sub)] = std::move(p.positions);
  }
  prune_at_ = std::max<std::size_t>(1024, 2 * used_.size());
}

}  // namespace waitroom::core
