#pragma once
// What a room remembers of the invitations it took (token/invitation.hpp checks them): each jti
// until its invitation expires, so an invitation is good for one join; and, for the line of the
// current epoch, the places each identity (the invitation's sub) holds, so a place belongs to the
// person and not to the browser (max_places_per_identity). Replayed from InvitationUsedRecords.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace waitroom::core {

struct UsedInvitation {
  std::string jti;
  std::int64_t exp_s = 0;
  bool operator==(const UsedInvitation&) const = default;
};

struct IdentityPlaces {
  std::string sub;
  std::vector<std::uint64_t> positions;  // in the order taken
  bool operator==(const IdentityPlaces&) const = default;
};

class RoomInvitations {
 public:
  bool used(std::string_view jti) const { return used_.contains(std::string(jti)); }
  // Marks `jti` used until `exp_s`. Forgets the jtis of invitations expired `forget_after_s`
  // before `now_s` from time to time: those are refused for their exp before their jti is looked
  // at, so forgetting them changes no answer.
  void use(std::string jti, std::int64_t exp_s, std::int64_t now_s, std::int64_t forget_after_s);

  // The places `sub` took in this epoch's line, oldest first (ended ones included: the caller
  // knows which are live).
  std::span<const std::uint64_t> places(std::string_view sub) const;
  // Once per place: adding one the identity holds already changes nothing.
  void add_place(std::string sub, std::uint64_t position);
  // Whether some identity holds (or held) the place at `position` in this epoch's line.
  bool owned(std::uint64_t position) const { return owned_.contains(position); }
  // A new epoch: a new line, nobody holds a place in it. Used jtis stay used.
  void clear_places() {
    places_.clear();
    owned_.clear();
  }

  // For snapshots (core/room_image.hpp), in a stable order.
  std::vector<UsedInvitation> used_list() const;
  std::vector<IdentityPlaces> places_list() const;
  void restore(std::vector<UsedInvitation> used, std::vector<IdentityPlaces> places);
  bool empty() const { return used_.empty() && places_.empty(); }

 private:
  std::unordered_map<std::string, std::int64_t> used_;  // jti -> exp
  std::unordered_map<std::string, std::vector<std::uint64_t>> places_;
  std::unordered_set<std::uint64_t> owned_;  // every position in places_
  std::size_t prune_at_ = 1024;              // the size at which expired jtis are next looked for
};

}  // namespace waitroom::core
