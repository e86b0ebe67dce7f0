#pragma once
// What room operations answer (engine/room_ops.hpp): the views of a room, a ticket and a pass that
// the handlers render. Plain values, read under the room's lock and handed out after it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/room.hpp"
#include "core/room_settings.hpp"
#include "core/ticket_status.hpp"

namespace waitroom::engine {

struct RoomView {
  std::string name;
  core::RoomSettings settings;
  std::uint32_t epoch = 0;
  bool paused = false;
  core::RoomCounters counters;
  std::optional<core::Eta> eta;     // for someone joining now
  core::AdmissionPolicy admission;  // in force now (a running event may override the room's)
  core::Queueing queueing = core::Queueing::fifo;
  std::optional<core::EventStatus> event;
  std::vector<core::DrawInfo> draws;
  core::RoomMessagePtr message;  // the operators' message; null: none
  bool takes_codes = false;      // the room has access codes: its page asks for one
  // The drawing that runs now (core::Room::running_drawing), if any.
  std::optional<core::DrawInfo> drawing;
  bool sold_out = false;                      // its inventory is at 0 (core::Room::sold_out)
  std::optional<std::uint64_t> inventory;     // items left, when the room counts them
  std::optional<std::uint64_t> active_limit;  // adaptive admission's limit, once found
  // Leave and come back: visitors with a notice, and the messages due and not sent.
  std::uint64_t notices = 0;
  std::uint64_t notices_due = 0;
};

// A room's inventory (engine/inventory_ops.hpp).
struct InventoryView {
  std::optional<std::uint64_t> left;  // none: the room counts no items
  std::uint64_t reserved = 0;         // by the places held (reserve_per_session each)
  std::uint64_t reserve_per_session = 0;
  bool sold_out = false;
};

// A room with what an operator reads besides its view (admin stats, the history's samples): a
// little more work than a view, so only the operator's reads pay for it.
struct RoomStats {
  RoomView view;
  core::LineStatus line;
  core::WaitLog waits;  // a copy of the room's recent admissions' waits
  // Adaptive admission: the limit on places held its controller found (none: not yet), and the
  // places held now, in seats (core::Room::held), as the controller counts them.
  std::optional<std::uint64_t> active_limit;
  std::uint64_t held = 0;
  // The site's health as the controller reads it (adaptive rooms only; the store fills it in).
  std::optional<core::HealthReading> site;
  std::optional<InventoryView> inventory;  // when the room counts items
};

struct TicketView {
  std::string ticket;
  std::string room;
  core::TicketState state;
  core::RoomMessagePtr message;  // the room's message for its line (a shared copy); null: none
};

// A ticket as an event stream follows it: found once by its id, then read by position. The room's
// change counter grows whenever something a ticket's status shows may have changed (serving
// counter, admissions, sessions, settings, the operators' message, reset); it is the stream's
// event id.
struct WatchedTicket {
  TicketView view;
  std::uint32_t epoch = 0;
  std::uint64_t change_id = 0;
};

// Many tickets of one room read together, as of one change of the room.
struct TicketStates {
  std::uint32_t epoch = 0;
  std::uint64_t change_id = 0;
  // One per position asked for; nullopt where the room has no such position (e.g. after a reset).
  std::vector<std::optional<core::TicketState>> states;
  core::RoomMessagePtr message;  // the room's message for its line; null: none
};

// A visitor signed in at the room's identity provider (web/room_login): the account's id and
// when the sign-in's ID token expires.
struct SignedIn {
  std::string sub;
  std::int64_t exp_s = 0;
};

struct EnqueueResult {
  TicketView ticket;
  bool created = false;  // false: the visitor's existing ticket was returned
};

struct PassView {
  std::string pass;
  std::int64_t expires_at_s = 0;
  std::int64_t expires_in_s = 0;
};

// What a gate learns about a live pass.
struct PassCheck {
  std::string ticket;
  std::string pass;  // the pass checked (after a renewal: the new one)
  std::uint64_t position = 0;
  std::int64_t issued_at_s = 0;  // when the visitor was let in (the OIDC adapter's auth_time)
  std::int64_t expires_at_s = 0;
  // The room renews passes on activity and this one should be: renew_pass(), then give the
  // visitor the new pass (also when they showed the previous pass of a renewed session).
  bool renewal_due = false;
  std::optional<PassView> renewed;  // filled by the gate after renew_pass()
  std::uint64_t party_size = 1;     // the seats the pass lets in (X-Waitroom-Party-Size)
};

// Overrides for one first issuance (AWS's private generate_token); a re-fetch returns the pass as
// first issued.
struct PassOptions {
  std::optional<std::string> issuer;
  std::optional<std::int64_t> lifetime_s;
  // The client's network ("203.0.113.0/24"): a room that binds passes by ip_prefix writes it
  // into the pass (claim "bind"); empty: the caller cannot tell, and the pass is not bound to one.
  std::string client_prefix;
};

struct Advance {
  std::optional<std::uint64_t> by;
  std::optional<std::uint64_t> to;
};

struct AdmissionEntry {
  std::uint64_t seq = 0;  // 1-based, in the order admissions happened this epoch
  std::uint64_t position = 0;
  std::string ticket;
  std::int64_t admitted_at_s = 0;
};

struct AdmissionsPage {
  std::vector<AdmissionEntry> admissions;
  std::uint64_t next = 0;  // the seq to ask for next
  std::uint64_t total = 0;
};

// Builds a room's new settings from its current ones (nullopt when the room does not exist yet).
using SettingsUpdate =
    std::function<core::Result<core::RoomSettings>(const std::optional<core::RoomSettings>&)>;

}  // namespace waitroom::engine
