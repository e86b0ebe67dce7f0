#pragma once
// One record of a room's log applied to the room's state. The embedded store does it when it
// replays its file; every node of the Redis store does it with the records other nodes appended,
// so both rebuild a room through exactly the same steps as the change that wrote the record.
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/room.hpp"
#include "core/room_settings.hpp"
#include "engine/log_records.hpp"

namespace waitroom::engine {

// The settings a RoomPutRecord carries.
core::Result<core::RoomSettings> settings_of(const RoomPutRecord& record);

// Applies a record that changes a room's line, sessions or settings (every kind but RoomPut's
// creation and RoomDelete, which change which rooms exist).
// `now_s` only decides whether a session ended by an operator had already run out.
core::Result<void> apply_room_record(core::Room& room, const LogRecord& record, std::int64_t now_s);

// Applies any record of the room named `name`: its creation and deletion (`room` empty before the
// first put and after a delete), the epoch floor the name keeps across them (`last_epoch`), and
// everything else through apply_room_record.
core::Result<void> apply_record(const std::string& name, std::optional<core::Room>& room,
                                std::uint32_t& last_epoch, const LogRecord& record,
                                std::int64_t now_s);

// Admissions and event records as they are written (drive_admissions, advance).
AdmitRecord admit_record(const std::string& room, std::uint32_t epoch,
                         const core::Admissions& step);
EventRecord event_record(const std::string& room, std::uint32_t epoch,
                         const core::EventTransition& t);
// The operators' message as it is written (set_message), and as a record gives it back.
RoomMessageRecord message_record(const std::string& room, const core::RoomMessagePtr& message);
core::RoomMessagePtr message_of(const RoomMessageRecord& record);
// The code a CodeAddedRecord created.
core::AccessCode code_of(const CodeAddedRecord& record);

}  // namespace waitroom::engine
