#include "engine/room_ops.hpp"

#include <boost/json.hpp>

#include "config/room_settings_codec.hpp"
#include "core/rfc3339.hpp"
#include "engine/apply_record.hpp"
#include "engine/code_ops.hpp"
#include "engine/inventory_ops.hpp"
#include "engine/invitation_ops.hpp"
#include "engine/notice_ops.hpp"
#include "engine/room_events.hpp"
#include "engine/room_reads.hpp"

namespace waitroom::engine {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {
// Bounded: a flood of polls between two presence flushes does not grow the list without end.
constexpr std::size_t kMaxSeenPending = 100000;

// A renewed pass is kept while it has at least half its lifetime left.
bool fresh(const core::Session& s, const core::RoomSettings& st, std::int64_t now_s) {
  return (s.expires_at_s - now_s) * 2 >= st.pass_lifetime_s;
}

core::Error no_session_to_renew() {
  return core::Error{ErrorCode::gone, "this ticket has no active session to renew", 0};
}

RoomPutRecord put_record(const std::string& name, const core::RoomSettings& settings) {
  // The log keeps OIDC client secrets (it restores the room); audit events do not.
  return RoomPutRecord{
      name, json::serialize(config::room_settings_to_json(settings, config::Secrets::include))};
}
}  // namespace

void mark_seen(core::Room& room, const OpContext& ctx, std::uint64_t position, std::int64_t now_s) {
  room.mark_seen(position, now_s);
  if (ctx.seen && ctx.seen->size() < kMaxSeenPending) ctx.seen->push_back(position);
}

TicketView ticket_view(core::Room& room, const OpContext& ctx, std::uint64_t position,
                       std::optional<std::string> id) {
  if (!id) id = ctx.ids.encode(room.name(), room.epoch(), position);
  return TicketView{std::move(*id), room.name(), room.ticket(position, ctx.clock.now_s()),
                    room.message()};
}

std::optional<EnqueueResult> existing_ticket(core::Room& room, const OpContext& ctx,
                                             std::uint64_t position, std::string ticket) {
  if (!room.has_ticket(position)) return std::nullopt;
  mark_seen(room, ctx, position, ctx.clock.now_s());
  TicketView view = ticket_view(room, ctx, position, std::move(ticket));
  // A visitor whose ticket is over (expired, or its session ended) joins again at the tail.
  if (!core::is_live(view.state.status)) return std::nullopt;
  return EnqueueResult{std::move(view), false};
}

namespace {
// A signed-in account's identity in the room's places: never the same as an invitation's sub.
const std::string kSignedInPrefix = "sign-in:";
}  // namespace

namespace {
// The visitor's own waiting ticket, given up for the place a code or an invitation gave them, as
// if its visitor had left.
std::optional<core::Admissions> give_up(core::Room& rm, std::uint64_t waiting, std::int64_t now) {
  core::Admissions gave_up;
  gave_up.at_s = now;
  gave_up.serving_from = gave_up.serving_to = rm.serving();
  gave_up.left = {waiting};
  gave_up.changed = true;
  rm.apply(gave_up);
  return gave_up;
}

InvitationUsedRecord invitation_record(const core::Room& rm, const token::Invitation& invitation,
                                       std::uint64_t position, std::int64_t now) {
  return InvitationUsedRecord{rm.name(),        rm.epoch(),     position, invitation.jti,
                              invitation.exp_s, invitation.sub, now};
}
}  // namespace

core::Result<EnqueueResult> enqueue(core::Room& rm, const OpContext& ctx, const Join& join,
                                    Effects& fx) {
  const std::int64_t now = ctx.clock.now_s();
  const auto max_party = static_cast<std::uint64_t>(rm.settings().max_party_size);
  if (join.party_size < 1 || join.party_size > max_party)
    return fail(ErrorCode::bad_request,
                max_party == 1 ? "room " + rm.name() + " takes no parties: party_size must be 1"
                               : "party_size must be between 1 and " + std::to_string(max_party) +
                                     " in room " + rm.name());
  // Whose place it is: the invitation's sub, or else the signed-in account (kept apart from the
  // site's invitation subs by its prefix; it has no jti to use up).
  std::optional<token::Invitation> identity = join.invitation;
  const bool by_sign_in = !identity && join.signed_in;
  if (by_sign_in)
    identity = token::Invitation{kSignedInPrefix + join.signed_in->sub, std::nullopt, "",
                                 join.signed_in->exp_s, std::nullopt};
  // An invite_only room takes invitations only: a sign-in is not the site's word for the visitor.
  if (!join.invitation && rm.settings().invitations.invite_only)
    return fail(ErrorCode::unauthorized, "room " + rm.name() +
                                             " admits by invitation only: join through the "
                                             "link the site gave you");
  std::optional<InvitationUse> invited;
  if (identity) {
    if (join.code)
      return fail(ErrorCode::bad_request, "a join takes an access code or an invitation, not both");
    auto use = check_invitation(rm, *identity, join.waiting, now);
    if (!use) return std::unexpected(use.error());
    invited = *use;
  } else if (rm.settings().login && rm.settings().login->required) {
    return fail(ErrorCode::unauthorized, "room " + rm.name() +
                                             " asks visitors to sign in before they join: "
                                             "use \"Sign in to join\" on the room's page");
  }
  // A visitor waiting in a place nobody's identity holds who signs in to an account without one:
  // that place becomes the account's (they keep their turn; an invitation's lane would not).
  if (by_sign_in && !invited->place && join.waiting && !rm.invitations().owned(*join.waiting)) {
    rm.invitations().add_place(identity->sub, *join.waiting);
    fx.record(invitation_record(rm, *identity, *join.waiting, now));
    mark_seen(rm, ctx, *join.waiting, now);
    return EnqueueResult{ticket_view(rm, ctx, *join.waiting), false};
  }
  // The identity's place is there already: the answer is that place, on any device.
  if (invited && invited->place) {
    const std::uint64_t place = *invited->place;
    std::optional<core::Admissions> gave_up;
    if (join.waiting && *join.waiting != place) gave_up = give_up(rm, *join.waiting, now);
    if (invited->uses_jti) {
      const token::Invitation& inv = *identity;
      rm.invitations().use(inv.jti, inv.exp_s, now, token::kInvitationLeewayS);
      fx.record(invitation_record(rm, inv, place, now));
    }
    if (gave_up) {
      fx.record(admit_record(rm.name(), rm.epoch(), *gave_up));
      fx.changed = true;
    }
    mark_seen(rm, ctx, place, now);
    return EnqueueResult{ticket_view(rm, ctx, place), false};
  }
  std::optional<CodeUse> code;
  if (join.code) {
    auto use = check_code(rm, *join.code, now);
    if (!use) return std::unexpected(use.error());
    code = std::move(*use);
    // Sent twice (a double click): the place is in that lane already.
    if (join.waiting && code->lane && rm.ticket(*join.waiting, now).lane == *code->lane)
      return EnqueueResult{ticket_view(rm, ctx, *join.waiting), false};
  }
  const bool code_admits = code && !code->lane;
  auto admit = rm.admits_on_arrival(now, join.party_size);
  // A code that lets its holder in takes no place in line, so a full line does not stop it.
  if (!admit && !(code_admits && admit.error().code == ErrorCode::full))
    return std::unexpected(admit.error());
  const bool admitted = code_admits || (admit && *admit);
  const auto flags = static_cast<std::uint8_t>((join.tracks_presence ? core::kTracksPresence : 0) |
                                               (admitted ? core::kAdmittedOnArrival : 0));
  const auto party = static_cast<std::uint8_t>(join.party_size);
  const std::uint8_t lane = code && code->lane ? *code->lane
                            : invited          ? invited->lane
                                               : core::kDefaultLane;
  const std::uint64_t serving = rm.serving();
  auto position = rm.enqueue(now, 1, flags, lane, party);
  if (!position) return std::unexpected(position.error());
  if (code) rm.codes().use(code->id);
  if (invited) {
    const token::Invitation& inv = *identity;
    rm.invitations().use(inv.jti, inv.exp_s, now, token::kInvitationLeewayS);
    rm.invitations().add_place(inv.sub, *position);
  }
  // The place the code or invitation replaces is given up.
  std::optional<core::Admissions> gave_up;
  // Not a place another identity holds (another account signing in on a shared browser).
  if ((code || invited) && join.waiting && !(invited && rm.invitations().owned(*join.waiting)))
    gave_up = give_up(rm, *join.waiting, now);
  TicketView view = ticket_view(rm, ctx, *position);
  if (fx.wants_events) {
    const std::int64_t now_ms = ctx.clock.now_ms();
    json::object issued{{"ticket", view.ticket},
                        {"position", *position},
                        {"status", core::to_string(view.state.status)}};
    if (lane != core::kDefaultLane) issued["lane"] = core::lane_name(rm.settings().lanes, lane);
    if (code) issued["code"] = code->id;
    if (by_sign_in)
      issued["sign_in"] = json::object{{"sub", join.signed_in->sub}};
    else if (invited)
      issued["invitation"] = json::object{{"sub", identity->sub}};
    if (party > 1) issued["party_size"] = party;
    fx.event(rm.name(), "ticket.issued", std::move(issued), now_ms);
    if (view.state.admitted_at_s)
      fx.event(rm.name(), "ticket.admitted",
               {{"ticket", view.ticket},
                {"position", *position},
                {"admitted_at", *view.state.admitted_at_s}},
               now_ms);
  }
  fx.record(EnqueueRecord{rm.name(), rm.epoch(), *position, 1, now, flags, lane, party});
  if (code) fx.record(CodeUsedRecord{rm.name(), code->id});
  if (invited) fx.record(invitation_record(rm, *identity, *position, now));
  if (gave_up) fx.record(admit_record(rm.name(), rm.epoch(), *gave_up));
  // A new ticket changes nobody else's status, unless it was let in at once and moved the serving
  // counter along, or took the place of one.
  if (rm.serving() != serving || gave_up) fx.changed = true;
  return EnqueueResult{std::move(view), true};
}

TicketStates ticket_states(core::Room& rm, const OpContext& ctx,
                           std::span<const std::uint64_t> positions, std::uint64_t change_id) {
  TicketStates out;
  out.states.reserve(positions.size());
  const std::int64_t now = ctx.clock.now_s();
  out.epoch = rm.epoch();
  out.change_id = change_id;
  out.message = rm.message();
  for (std::uint64_t p : positions) {
    if (!rm.has_ticket(p)) {
      out.states.emplace_back();
      continue;
    }
    mark_seen(rm, ctx, p, now);
    out.states.emplace_back(rm.ticket(p, now));
  }
  return out;
}

core::Result<PassPlan> plan_pass(core::Room& rm, const OpContext& ctx, std::uint64_t position,
                                 const std::string& ticket, const PassOptions& options) {
  const std::int64_t now = ctx.clock.now_s();
  mark_seen(rm, ctx, position, now);
  if (auto allowed = rm.check_pass_allowed(position, now); !allowed)
    return std::unexpected(allowed.error());
  PassPlan plan;
  if (const core::Session* s = rm.session(position, now)) plan.issued = pass_view(*s, now);
  const core::RoomSettings& st = rm.settings();
  plan.request = core::PassRequest{rm.name(),
                                   st.algorithm,
                                   options.issuer.value_or(st.issuer),
                                   rm.audience(),
                                   ticket,
                                   position,
                                   rm.epoch(),
                                   now,
                                   now + options.lifetime_s.value_or(st.pass_lifetime_s),
                                   core::pass_binding(st.abuse.bind_pass, options.client_prefix),
                                   rm.seats(position)};
  return plan;
}

core::Result<PassView> record_pass(core::Room& rm, const OpContext& ctx,
                                   const core::PassRequest& request, const std::string& pass,
                                   Effects& fx) {
  if (rm.epoch() != request.epoch)
    return fail(ErrorCode::gone, "the line was reset while the pass was being issued");
  const std::int64_t now = request.issued_at_s;
  // Checked again on the state every writer of the room goes through: max_active holds.
  if (auto allowed = rm.check_pass_allowed(request.position, now); !allowed)
    return std::unexpected(allowed.error());
  if (const core::Session* s = rm.session(request.position, now)) return pass_view(*s, now);
  fx.record(PassIssuedRecord{rm.name(), request.epoch, request.position, now, request.expires_at_s,
                             pass});
  // AWS's detail type and fields, plus ours.
  fx.event(rm.name(), "token_generated",
           {{"event_id", rm.name()},
            {"request_id", request.ticket},
            {"position", request.position},
            {"expires_at", request.expires_at_s}},
           ctx.clock.now_ms());
  const core::Session& s = rm.add_session(
      request.position,
      core::Session{pass, now, request.expires_at_s, core::TicketStatus::admitted, 0, {}, 0});
  fx.changed = true;  // the ticket is admitted now
  return pass_view(s, now);
}

core::Result<PassPlan> plan_renewal(core::Room& rm, const OpContext& ctx, std::uint64_t position,
                                    const std::string& ticket, std::string binding) {
  const std::int64_t now = ctx.clock.now_s();
  const core::Session* s = rm.session(position, now);
  if (!s || s->status != core::TicketStatus::admitted)
    return std::unexpected(no_session_to_renew());
  const core::RoomSettings& st = rm.settings();
  PassPlan plan;
  if (fresh(*s, st, now)) plan.issued = pass_view(*s, now);  // renewed already (or not due)
  plan.request = core::PassRequest{rm.name(),
                                   st.algorithm,
                                   st.issuer,
                                   rm.audience(),
                                   ticket,
                                   position,
                                   rm.epoch(),
                                   now,
                                   now + st.pass_lifetime_s,
                                   std::move(binding),
                                   rm.seats(position)};
  return plan;
}

core::Result<PassView> record_renewal(core::Room& rm, const OpContext& ctx,
                                      const core::PassRequest& request, const std::string& pass,
                                      Effects& fx) {
  const std::int64_t now = request.issued_at_s;
  if (rm.epoch() != request.epoch) return std::unexpected(no_session_to_renew());
  const core::Session* s = rm.session(request.position, now);
  if (!s || s->status != core::TicketStatus::admitted)
    return std::unexpected(no_session_to_renew());
  // A concurrent request renewed it first: everyone gets that one.
  if (fresh(*s, rm.settings(), now)) return pass_view(*s, now);
  if (auto renewed = rm.renew_session(request.position, pass, request.expires_at_s, 0); !renewed)
    return std::unexpected(renewed.error());
  fx.record(
      PassRenewedRecord{rm.name(), request.epoch, request.position, request.expires_at_s, pass});
  fx.event(rm.name(), "session_renewed",
           {{"event_id", rm.name()},
            {"request_id", request.ticket},
            {"position", request.position},
            {"expires_at", request.expires_at_s}},
           ctx.clock.now_ms());
  return PassView{pass, request.expires_at_s, request.expires_at_s - now};
}

core::Result<TicketView> end_session(core::Room& rm, const OpContext& ctx, std::uint64_t position,
                                     const std::string& ticket, core::TicketStatus status,
                                     Effects& fx, std::uint64_t consumed) {
  if (!rm.has_ticket(position))
    return fail(ErrorCode::gone, "this ticket belongs to a line that was reset; join again");
  if (consumed > 0 && status != core::TicketStatus::completed)
    return fail(ErrorCode::bad_request, "consumed goes with status \"completed\" only");
  // Only a session that ends now buys: a retried completion is answered as it was.
  const core::Session* session = rm.session(position, ctx.clock.now_s());
  if (session && session->status == core::TicketStatus::admitted)
    if (auto ok = check_consumption(rm, consumed); !ok) return std::unexpected(ok.error());
  auto changed = rm.end_session(position, status, ctx.clock.now_s());
  if (!changed) return std::unexpected(changed.error());
  // Ending it again is a no-op, purchase included: a retried completion does not sell twice.
  if (*changed) {
    fx.record(SessionEndRecord{rm.name(), rm.epoch(), position, status});
    json::object data{
        {"event_id", rm.name()}, {"request_id", ticket}, {"status", core::to_string(status)}};
    if (consumed > 0) data["consumed"] = consumed;
    fx.event(rm.name(), "session_updated", std::move(data), ctx.clock.now_ms());
    fx.changed = true;
    consume(rm, ctx, consumed, ticket, fx);
  }
  return ticket_view(rm, ctx, position);
}

core::Result<core::RoomSettings> put_settings(const std::string& name, const core::Room* current,
                                              const SettingsUpdate& update, const OpContext& ctx,
                                              Effects& fx) {
  auto settings = update(current ? std::optional(current->settings()) : std::nullopt);
  if (!settings) return std::unexpected(settings.error());
  if (!current || current->settings().invitations.keys != settings->invitations.keys)
    if (auto ok = token::check_invitation_keys(settings->invitations); !ok)
      return std::unexpected(ok.error());
  if (current) {
    const core::Lanes& before = current->settings().lanes;
    for (std::uint8_t lane = 1; lane <= before.size(); ++lane) {
      const std::uint64_t waiting = current->waiting_in_lane(lane);
      if (waiting == 0) continue;
      if (lane > settings->lanes.size() || settings->lanes[lane - 1].name != before[lane - 1].name)
        return fail(ErrorCode::conflict,
                    "lane \"" + before[lane - 1].name + "\" has " + std::to_string(waiting) +
                        " visitors waiting: it keeps its name and place in lanes until it is "
                        "empty (add new lanes after it; shares may change)");
    }
  }
  fx.record(put_record(name, *settings));
  fx.event(name, "policy.changed",
           {{"created", current == nullptr},
            {"settings", config::room_settings_to_json(*settings, config::Secrets::redact)}},
           ctx.clock.now_ms());
  // A changed room's tickets may show something new (paused, or a new policy changes the
  // estimates); a new room has no tickets yet.
  fx.changed = current != nullptr;
  return settings;
}

core::Room create_room(const std::string& name, core::RoomSettings settings,
                       std::uint32_t& last_epoch) {
  core::Room room(name, std::move(settings));
  room.reset(last_epoch + 1);
  last_epoch = room.epoch();
  return room;
}

void delete_room(const std::string& name, const OpContext& ctx, Effects& fx) {
  fx.record(RoomDeleteRecord{name});
  fx.event(name, "room.deleted", {}, ctx.clock.now_ms());
  fx.changed = true;  // its streams end
}

core::Result<std::uint64_t> advance(core::Room& rm, const OpContext& ctx, const Advance& advance,
                                    Effects& fx) {
  const std::int64_t now = ctx.clock.now_s();
  auto moved =
      advance.to ? rm.advance_to(*advance.to, now) : rm.advance_by(advance.by.value_or(0), now);
  if (!moved) return std::unexpected(moved.error());
  const std::int64_t now_ms = ctx.clock.now_ms();
  fx.event(rm.name(), "serving.advanced",
           {{"previous", moved->serving_from},
            {"serving", moved->serving_to},
            {"admitted", moved->admitted.size()}},
           now_ms);
  step_events(fx, ctx.ids, rm, *moved, now_ms);
  fx.record(admit_record(rm.name(), rm.epoch(), *moved));
  fx.changed = true;
  return rm.serving();
}

core::Result<RoomView> set_paused(core::Room& rm, const OpContext& ctx, bool paused, Effects& fx) {
  core::RoomSettings st = rm.settings();
  st.state = paused ? core::RoomState::paused : core::RoomState::open;
  rm.set_settings(st);
  fx.record(put_record(rm.name(), st));
  fx.event(rm.name(), paused ? "room.paused" : "room.resumed", {}, ctx.clock.now_ms());
  fx.changed = true;
  return room_view(rm, ctx.clock.now_ms());
}

core::RoomMessagePtr set_message(core::Room& rm, const OpContext& ctx,
                                 std::optional<std::string> text, Effects& fx) {
  if (!text && !rm.message()) return nullptr;  // nothing to clear: nothing written
  const std::int64_t now_ms = ctx.clock.now_ms();
  core::RoomMessagePtr message;
  if (text)
    message = std::make_shared<const core::RoomMessage>(
        core::RoomMessage{std::move(*text), now_ms / 1000});
  rm.set_message(message);
  fx.record(message_record(rm.name(), message));
  if (fx.wants_events) {
    json::value text_json = nullptr, set_at_json = nullptr;
    if (message) {
      text_json = message->text;
      set_at_json = core::format_rfc3339(message->set_at_s);
    }
    fx.event(rm.name(), "room.message_changed", {{"text", text_json}, {"set_at", set_at_json}},
             now_ms);
  }
  fx.changed = true;  // the streams of the room's tickets push it
  return message;
}

core::Result<RoomView> reset(core::Room& rm, const OpContext& ctx, std::uint32_t& last_epoch,
                             Effects& fx) {
  const std::uint32_t epoch = rm.epoch() + 1;
  if (epoch > core::kMaxEpoch)
    return fail(ErrorCode::conflict, "this room has been reset too often; delete and re-create it");
  rm.reset(epoch);
  last_epoch = epoch;
  fx.record(ResetRecord{rm.name(), epoch});
  fx.event(rm.name(), "room.reset", {{"epoch", epoch}}, ctx.clock.now_ms());
  fx.changed = true;  // every ticket of the old epoch is gone
  return room_view(rm, ctx.clock.now_ms());
}

void admission_step(core::Room& rm, const OpContext& ctx, std::int64_t now_ms, bool minute,
                    std::uint64_t& expired_sessions, Effects& fx,
                    const core::HealthReading* health) {
  core::Admissions step = rm.tick(now_ms, health);
  step_events(fx, ctx.ids, rm, step, now_ms);
  if (minute) metrics_event(fx, rm, now_ms);
  // Sessions that ran out by time change their tickets' status without any step to log.
  const std::uint64_t expired = rm.counters(now_ms / 1000).expired;
  if (step.changed || !step.transitions.empty() || expired != expired_sessions) {
    expired_sessions = expired;
    fx.changed = true;
  }
  // Nobody waits on these records; visitors see the admission when they next ask, and a pass is
  // only handed out once its own (later) record is durable.
  for (const core::EventTransition& t : step.transitions)
    fx.record(event_record(rm.name(), rm.epoch(), t));
  if (step.adjusted)
    fx.record(AdmissionLimitRecord{rm.name(), step.adjusted->new_limit, step.at_s});
  if (step.changed) fx.record(admit_record(rm.name(), rm.epoch(), step));
  // After the step's admissions: whose turn nears among those still waiting.
  notice_step(rm, ctx, now_ms, fx);
}

bool admission_step_writes_nothing(const core::Room& rm, std::int64_t now_ms, bool minute) {
  return !minute && rm.quiet_at(now_ms / 1000);
}

bool observe_step(core::Room& rm, std::int64_t now_ms, std::uint64_t& expired_sessions) {
  rm.observe(now_ms);
  const std::uint64_t expired = rm.counters(now_ms / 1000).expired;
  if (expired == expired_sessions) return false;
  expired_sessions = expired;
  return true;
}

}  // namespace waitroom::engine
