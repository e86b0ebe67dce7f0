#pragma once
// A room's snapshot: its state (core/room_image.hpp) in bytes, and the log record that carries it.
// Compaction writes one RoomSnapshotRecord per room in place of the records that built it; replay
// (engine/apply_record.hpp) takes the room from it and applies the records that follow.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/room.hpp"
#include "core/room_image.hpp"
#include "engine/log_records.hpp"
#include "ops/stored_event.hpp"

namespace waitroom::engine {

std::string encode_image(const core::RoomImage& image);
// Refuses bytes that do not make a consistent room (a position past the line's tail, say).
core::Result<core::RoomImage> decode_image(std::string_view bytes);

// A room's state copied out under its lock (a copy of its vectors), to be encoded after.
struct RoomSnapshot {
  std::string name;
  std::uint32_t last_epoch = 0;
  std::optional<core::RoomSettings> settings;  // nullopt: the room was deleted
  core::RoomImage image;
  // The room's feed: its last event number, and the events still kept, from kept_first_seq.
  std::uint64_t last_event_seq = 0;
  std::uint64_t kept_first_seq = 0;
  std::vector<ops::StoredEvent> kept_events;
};
RoomSnapshot take_snapshot(const std::string& name, const std::optional<core::Room>& room,
                           std::uint32_t last_epoch);
// The record of a snapshot: the room (none after a delete), the highest epoch its name had, and
// its feed.
RoomSnapshotRecord snapshot_record(const RoomSnapshot& snapshot);
RoomSnapshotRecord snapshot_record(const std::string& name, const std::optional<core::Room>& room,
                                   std::uint32_t last_epoch);

}  // namespace waitroom::engine
