#pragma once
// Everything of a room that replaying its log would rebuild, as plain data: what a snapshot keeps
// (engine/room_snapshot.hpp encodes it), so a compacted log starts from it instead of from the
// room's first record. Caches (the random pool, the line tally, the pace, the rate bucket) are not
// in it, nor presence: they start afresh, as after a replay. Ended sessions keep their status but
// not their passes, which can no longer be handed out.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/draw.hpp"
#include "core/event_schedule.hpp"
#include "core/room.hpp"

namespace waitroom::core {

struct DrawImage {
  DrawInfo info;
  Seed seed{};
};

struct ScheduleImage {
  std::optional<std::int64_t> event_start;
  bool event_running = false;
  std::optional<std::uint64_t> prequeue_first;
  std::vector<DrawImage> draws;  // this epoch's; a started draw's order follows from its seed
};

struct RoomImage {
  std::uint32_t epoch = 1;
  std::uint64_t serving = 0;
  std::vector<TicketSlot> tickets;  // last_seen_s is not kept
  std::vector<std::uint64_t> admitted_order;
  std::uint64_t left_count = 0;
  std::uint64_t unclaimed_expired = 0;
  std::uint64_t unclaimed_count = 0;
  // Only the admitted tickets still without a pass: the others would leave the queue at its next
  // look anyway.
  std::vector<std::uint64_t> claim_queue;
  std::vector<std::pair<std::uint64_t, Session>> sessions;  // by position
  RoomCounters totals;
  ScheduleImage schedule;
  std::optional<RoomMessage> message;            // the operators' message, if one is set
  std::vector<AccessCode> codes;                 // the operators' access codes
  std::vector<UsedInvitation> used_invitations;  // until each one's exp
  std::vector<IdentityPlaces> identity_places;   // this epoch's
  std::optional<std::uint64_t> active_limit;     // adaptive admission's controller found it
  std::optional<std::uint64_t> inventory;        // items left, when the room counts them
  std::vector<std::pair<std::uint64_t, Notice>> notices;  // leave and come back, by position
};

}  // namespace waitroom::core
