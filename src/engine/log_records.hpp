#pragma once
// The records of a room's log, one per acknowledged state change: the embedded store's file and
// the Redis store's per-room list hold the same encoding.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/ticket_status.hpp"
#include "ops/stored_event.hpp"

namespace waitroom::engine {

struct RoomPutRecord {
  std::string room;
  std::string settings_json;  // config/room_settings_codec, so new settings need no new format
};
struct RoomDeleteRecord {
  std::string room;
};
// `count` consecutive tickets from `first_position` that entered at `entry_time_s`.
struct EnqueueRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t first_position = 0;
  std::uint64_t count = 0;
  std::int64_t entry_time_s = 0;
  std::uint8_t flags = 0;  // core::kTracksPresence, core::kAdmittedOnArrival (absent in old logs)
  std::uint8_t lane = 0;   // core/lanes.hpp's number; written only when not the default lane
  std::uint8_t party = 1;  // the seats each stands for; written only when more than one
};
// Written by logs before admissions had their own record: the serving counter moved to `serving`.
struct AdvanceRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t serving = 0;
};
struct PausedRecord {
  std::string room;
  bool paused = false;
};
struct ResetRecord {
  std::string room;
  std::uint32_t new_epoch = 0;
};
struct PassIssuedRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  std::int64_t issued_at_s = 0;
  std::int64_t expires_at_s = 0;
  std::string pass;  // kept whole: ES256 signatures are randomised, and a re-fetch must match
};
struct SessionEndRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  core::TicketStatus status = core::TicketStatus::completed;
};

// A renewal (renew_on_activity): the session's new pass; the one it replaces stays valid until
// its own expiry.
struct PassRenewedRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  std::int64_t expires_at_s = 0;
  std::string pass;
};

// One admission step (core::Admissions): the driver's policy step or an operator's advance.
struct AdmitRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::int64_t at_s = 0;
  std::uint64_t serving_to = 0;
  std::vector<std::uint64_t> left;
  std::vector<std::uint64_t> unclaimed;
  std::vector<std::uint64_t> drawn;
};

// A scheduled event's moment (core::EventTransition); the seed is logged when drawn, so the
// published commitment and the shuffle survive a restart.
struct EventRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint8_t kind = 0;
  std::int64_t event_start_s = 0;
  std::int64_t at_s = 0;
  std::string seed;  // 32 bytes
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t winners = 0;  // a drawing's (0: none; absent from older records)
};

// Written by `waitroom log repair` for each room that had records in the dropped part of a damaged
// log: the room reached this epoch, queue counter and serving counter there, so its counters must
// never go below them again (no position, and so no ticket id, is handed out twice). Replay moves
// the room to that epoch if it is behind, and burns the positions it lacks (they read as expired).
struct CounterFloorRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t queue_counter = 0;
  std::uint64_t serving = 0;
  std::uint64_t event_seq = 0;  // the room's feed numbers its next event after this
};

// A change's audit events (docs/events.md), appended with the change's other records: the log is
// the outbox, so the events of an acknowledged change survive a crash, and webhook sinks read
// them from here. They are numbered first_seq, first_seq + 1, ... in the room's feed.
struct EventsRecord {
  std::string room;
  std::uint64_t first_seq = 0;
  std::vector<ops::StoredEvent> events;
};

// A compacted log's first record of a room: the whole room as its earlier records had built it
// (engine/room_snapshot.hpp), which replaces them. A deleted room keeps only its name's epoch, so
// a room created again under that name never accepts the old tickets.
struct RoomSnapshotRecord {
  std::string room;
  std::uint32_t last_epoch = 0;
  bool exists = false;
  std::string settings_json;  // as RoomPutRecord's
  std::string image;          // engine::encode_image() of the room
  // The room's feed: the last number it gave an event, and the events it still keeps (some sink
  // has not acknowledged them), numbered from kept_first_seq. Absent from older snapshots.
  std::uint64_t last_event_seq = 0;
  std::uint64_t kept_first_seq = 0;
  std::vector<ops::StoredEvent> kept_events;
};

// The operators' message to the room's line (core/room_message.hpp) was set to `text` at
// `set_at_s`, or cleared (`text` empty: a message is never empty). It belongs to no epoch: a reset
// keeps it.
struct RoomMessageRecord {
  std::string room;
  std::string text;
  std::int64_t set_at_s = 0;
};

// An access code (core/room_codes.hpp) was created: its hash, never the code. Codes belong to no
// epoch: a reset keeps them.
struct CodeAddedRecord {
  std::string room;
  std::string id;
  std::string hash;
  std::uint64_t uses = 1;
  std::int64_t expires_at_s = 0;  // 0: never
  std::string lane;
  bool admit = false;
  std::int64_t created_at_s = 0;
};
// A join used the code (written with its EnqueueRecord, in the same commit).
struct CodeUsedRecord {
  std::string room;
  std::string id;
};
struct CodeRevokedRecord {
  std::string room;
  std::string id;
};

// A join used an invitation (token/invitation.hpp; written with its EnqueueRecord, or alone when
// the identity's place was there already): its jti is used until exp, and `sub` holds the place
// at `position` of `epoch`'s line.
struct InvitationUsedRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  std::string jti;
  std::int64_t exp_s = 0;
  std::string sub;
  std::int64_t at_s = 0;
};

// Adaptive admission's controller set its limit on places held to `limit` at `at_s`
// (core/admission/adaptive_controller.hpp). It belongs to no epoch: the site's capacity outlives
// a reset of the line.
struct AdmissionLimitRecord {
  std::string room;
  std::uint64_t limit = 0;
  std::int64_t at_s = 0;
};

// The room's inventory is `left` items (none: it counts none any more), after an operator's set
// or add or a completed session's purchase (written with its SessionEndRecord, in the same
// commit). Of no epoch: a reset keeps the inventory.
struct InventoryRecord {
  std::string room;
  std::optional<std::uint64_t> left;
};

// Leave and come back (core/room_notices.hpp): the visitor at `position` asked to be notified by
// `channel` (core::NoticeChannel; 0: they cancelled), at the contact sealed by the store layer
// (an e-mail address or a push subscription, never in the clear here).
struct NoticeSetRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  std::uint8_t channel = 0;
  std::string contact;
  std::string lang;
  std::int64_t at_s = 0;
};
// The near messages of these tickets became due (their estimate fell to notify_before_s). A
// turn's message needs no record: it is due when its admission is replayed.
struct NoticeDueRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::vector<std::uint64_t> positions;
};
// A message (core::NoticeKind) went out, or was given up (`sent` false).
struct NoticeDoneRecord {
  std::string room;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  std::uint8_t kind = 0;
  bool sent = false;
};

using LogRecord =
    std::variant<RoomPutRecord, RoomDeleteRecord, EnqueueRecord, AdvanceRecord, PausedRecord,
                 ResetRecord, PassIssuedRecord, SessionEndRecord, AdmitRecord, EventRecord,
                 PassRenewedRecord, CounterFloorRecord, RoomSnapshotRecord, EventsRecord,
                 RoomMessageRecord, CodeAddedRecord, CodeUsedRecord, CodeRevokedRecord,
                 InvitationUsedRecord, AdmissionLimitRecord, InventoryRecord, NoticeSetRecord,
                 NoticeDueRecord, NoticeDoneRecord>;

std::string encode_record(const LogRecord& record);
core::Result<LogRecord> decode_record(std::string_view payload);
// The room an encoded record belongs to (every record starts with it), without decoding the rest;
// nullopt for a payload too short to say.
std::optional<std::string_view> record_room(std::string_view payload);

}  // namespace waitroom::engine
