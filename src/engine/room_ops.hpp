#pragma once
// Every operation on a room, written once for both stores (DESIGN.md section 8). An operation takes
// the room's up-to-date state, locked by its store, and a request; it changes the state and returns
// the answer, leaving the records to append and the events to publish in `fx`. On an error it has
// changed nothing and `fx` is discarded. The store commits fx.records (the embedded log, or the
// Redis commit under the room's write lock) and publishes the rest once they are durable.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/pass_minter.hpp"
#include "core/room.hpp"
#include "engine/effects.hpp"
#include "engine/views.hpp"
#include "token/invitation.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::engine {

// What an operation may use besides the room: the time, ticket ids, and where this node keeps the
// positions its visitors were seen at (the Redis store writes presence back in batches; null: the
// room's own last-seen times are all there is).
struct OpContext {
  const core::Clock& clock;
  const token::TicketIdCodec& ids;
  std::vector<std::uint64_t>* seen = nullptr;
};

// Records that the visitor at `position` is still there.
void mark_seen(core::Room& room, const OpContext& ctx, std::uint64_t position, std::int64_t now_s);
TicketView ticket_view(core::Room& room, const OpContext& ctx, std::uint64_t position,
                       std::optional<std::string> id = std::nullopt);

// ---- tickets ----
// The visitor's ticket at `position` (its id `ticket`), when it is still live: waiting, eligible
// or admitted. Marks it seen. nullopt: the visitor joins again at the tail.
std::optional<EnqueueResult> existing_ticket(core::Room& room, const OpContext& ctx,
                                             std::uint64_t position, std::string ticket);
// A join. `tracks_presence`: the visitor's client reports presence (polls, page, SSE). `code`: an
// access code they typed (core/room_codes.hpp). `invitation`: one the site signed for them,
// verified already (token/invitation.hpp). `waiting`: their live ticket still waiting, whose place
// a code's or an invitation's replaces.
struct Join {
  bool tracks_presence = true;
  std::optional<std::string> code;
  std::optional<std::uint64_t> waiting;
  std::optional<token::Invitation> invitation;
  // Holds the place as that account, like an invitation's sub (an invitation, if both, wins).
  std::optional<SignedIn> signed_in{};
  // The seats the ticket stands for (a party), 1 to the room's max_party_size.
  std::uint64_t party_size = 1;
};
// A place at the tail of the default lane or the code's or invitation's lane (or admission at
// once: passthrough, capacity, a code that admits); refused with an error when the room rejects
// newcomers or is full, the code is not good, the invitation was used, or the room is invite_only
// and there is none. A code whose lane the waiting ticket is in already is not used again; an
// invitation whose identity holds max_places_per_identity live places answers the latest of them.
core::Result<EnqueueResult> enqueue(core::Room& room, const OpContext& ctx, const Join& join,
                                    Effects& fx);
// The tickets at `positions` as of `change_id`; each one found is marked seen.
TicketStates ticket_states(core::Room& room, const OpContext& ctx,
                           std::span<const std::uint64_t> positions, std::uint64_t change_id);

// ---- passes: planned under the lock, signed outside it (the expensive step), then recorded ----
struct PassPlan {
  std::optional<PassView> issued;  // the session's current pass, when there is one
  core::PassRequest request;       // what to sign otherwise
};
core::Result<PassPlan> plan_pass(core::Room& room, const OpContext& ctx, std::uint64_t position,
                                 const std::string& ticket, const PassOptions& options);
// Records the signed pass, unless a concurrent request issued one first: everyone gets that one.
core::Result<PassView> record_pass(core::Room& room, const OpContext& ctx,
                                   const core::PassRequest& request, const std::string& pass,
                                   Effects& fx);
// Renewal (renew_on_activity): `issued` is set when the session needs no renewal yet.
core::Result<PassPlan> plan_renewal(core::Room& room, const OpContext& ctx, std::uint64_t position,
                                    const std::string& ticket, std::string binding);
core::Result<PassView> record_renewal(core::Room& room, const OpContext& ctx,
                                      const core::PassRequest& request, const std::string& pass,
                                      Effects& fx);
// `consumed`: items a completed session bought, taken off the room's inventory with its end
// (engine/inventory_ops.hpp); refused when the room counts none or has fewer left.
core::Result<TicketView> end_session(core::Room& room, const OpContext& ctx, std::uint64_t position,
                                     const std::string& ticket, core::TicketStatus status,
                                     Effects& fx, std::uint64_t consumed = 0);

// ---- the room ----
// The settings a put gives the room (`current`: null when it is being created). A lane that
// visitors wait in keeps its name and place (their tickets know it by its number).
core::Result<core::RoomSettings> put_settings(const std::string& name, const core::Room* current,
                                              const SettingsUpdate& update, const OpContext& ctx,
                                              Effects& fx);
// A new room (or one re-created after a delete) starts at the epoch after the name's last one, so
// no ticket of a deleted room is ever accepted again.
core::Room create_room(const std::string& name, core::RoomSettings settings,
                       std::uint32_t& last_epoch);
void delete_room(const std::string& name, const OpContext& ctx, Effects& fx);
core::Result<std::uint64_t> advance(core::Room& room, const OpContext& ctx, const Advance& advance,
                                    Effects& fx);
core::Result<RoomView> set_paused(core::Room& room, const OpContext& ctx, bool paused, Effects& fx);
// Sets the operators' message to the room's line (`text`, already checked by core::message_text),
// or clears it (nullopt); returns the message now (null: none). Clearing a room that has none
// writes nothing. A reset keeps the message, a delete takes it with the room.
core::RoomMessagePtr set_message(core::Room& room, const OpContext& ctx,
                                 std::optional<std::string> text, Effects& fx);
core::Result<RoomView> reset(core::Room& room, const OpContext& ctx, std::uint32_t& last_epoch,
                             Effects& fx);

// ---- the admission driver ----
// One step of the room's admission policy at `now_ms`. `expired_sessions`: the count of sessions
// that ran out when listeners last heard (kept by the store per room); `minute`: the per-minute
// metrics event is due. Sets fx.changed when ticket statuses may show something new. `health`: the
// site's signals for adaptive admission (null: none known on this node).
void admission_step(core::Room& room, const OpContext& ctx, std::int64_t now_ms, bool minute,
                    std::uint64_t& expired_sessions, Effects& fx,
                    const core::HealthReading* health = nullptr);
// Whether that step is sure to write no record (core::Room::quiet_at, and no minute's event).
bool admission_step_writes_nothing(const core::Room& room, std::int64_t now_ms, bool minute);
// What a copy of a room that does not drive it does each step (a Redis node that is not the
// room's driver): sessions run out and the pace is sampled. True when ticket statuses changed.
bool observe_step(core::Room& room, std::int64_t now_ms, std::uint64_t& expired_sessions);

}  // namespace waitroom::engine
