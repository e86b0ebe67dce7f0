#include "store/store.hpp"

#include "engine/room_reads.hpp"
#include "store/invitation_jwks.hpp"

namespace waitroom::store {

using core::ErrorCode;
using core::fail;

namespace {

core::Error unknown_room(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no room named \"" + room + "\"", 0};
}

core::Error no_such_ticket(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no such ticket in room \"" + room + "\"", 0};
}

core::Error reset_line() {
  return core::Error{ErrorCode::gone, "this ticket belongs to a line that was reset; join again",
                     0};
}

// Where the ticket `ref` (its id decoded against the room; nullopt: forged) is in the room's
// state. `lagging`: the state may only be behind (a room, an epoch or a ticket newer than it);
// a forged id never counts as that, so it never costs a catch-up.
core::Result<std::uint64_t> locate(const std::string& room,
                                   const std::optional<token::TicketRef>& ref, const RoomSlot& s,
                                   bool& lagging) {
  if (!s.room) {
    lagging = ref.has_value();
    return std::unexpected(unknown_room(room));
  }
  if (!ref) return std::unexpected(no_such_ticket(room));
  const core::Room& rm = *s.room;
  if (ref->epoch != rm.epoch()) {
    lagging = ref->epoch > rm.epoch();
    return std::unexpected(reset_line());
  }
  if (!rm.has_ticket(ref->position)) {
    lagging = true;
    return std::unexpected(no_such_ticket(room));
  }
  return ref->position;
}

// A RoomStorage::Changer running the engine operation `change(slot, fx)`, keeping its answer in
// `answer`; an operation that failed changed nothing and leaves no effects.
template <class T, class Change>
auto keeping_answer(std::optional<core::Result<T>>& answer, Change change,
                    const engine::Actor* by = nullptr) {
  return [&answer, change = std::move(change), by](RoomSlot& s, engine::Effects& fx) mutable {
    engine::Effects mine(fx.wants_events);
    mine.actor = by;
    answer.emplace(change(s, mine));
    if (!*answer) return false;
    fx.append(std::move(mine));
    return true;
  };
}

}  // namespace

Store::Store(std::unique_ptr<RoomStorage> storage, const core::Clock& clock,
             const token::TicketIdCodec& ids, const core::PassMinter& minter)
    : storage_(std::move(storage)), clock_(clock), ids_(ids), minter_(minter) {
  storage_->set_health_board(&health_);
}

Store::~Store() = default;

// ---- the frames every operation shares ----------------------------------------------------------

// `read(slot, lagging)` answers from the slot and sets `lagging` when that answer may only come
// from a state that is behind. Synchronous, so that a read costs no coroutine frame of its own
// (the status poll and the gate are the hottest paths): nullopt when the state may be behind
// where other nodes change rooms too, and read_caught_up() answers instead.
template <class T, class Read>
std::optional<core::Result<T>> Store::read_now(const std::string& room, Read& read, bool final) {
  bool lagging = false;
  std::optional<core::Result<T>> answer;
  auto reader = [&](RoomSlot& s) { answer.emplace(read(s, lagging)); };
  if (auto r = storage_->read(room, reader); !r) return core::Result<T>(std::unexpected(r.error()));
  if (*answer || !lagging || final || !storage_->shared()) return answer;
  return std::nullopt;
}

template <class T, class Read>
Store::Op<T> Store::read_caught_up(std::string room, Read& read) {
  auto catch_up = storage_->catch_up(room);
  if (auto caught = co_await std::move(catch_up); !caught)
    co_return std::unexpected(caught.error());
  co_return std::move(*read_now<T>(room, read, /*final=*/true));
}

// A read of one room; a room this node has not heard of may have been created on another.
template <class T, class Read>
auto Store::room_reader(const std::string& room, Read read) {
  return [&room, read = std::move(read)](RoomSlot& s, bool& lagging) mutable -> core::Result<T> {
    if (!s.room) {
      lagging = core::is_valid_room_name(room);
      return std::unexpected(unknown_room(room));
    }
    return read(*s.room, s);
  };
}

// A read of one ticket at its position (`ref`: its id decoded against the room).
template <class T, class Read>
auto Store::ticket_reader(const std::string& room, const std::optional<token::TicketRef>& ref,
                          Read read) {
  return
      [&room, &ref, read = std::move(read)](RoomSlot& s, bool& lagging) mutable -> core::Result<T> {
        auto position = locate(room, ref, s, lagging);
        if (!position) return std::unexpected(position.error());
        return read(*s.room, s, *position);
      };
}

// `change(room, slot, fx)` is an engine operation: on an error it has changed nothing.
template <class T, class Change>
Store::Op<T> Store::change(std::string room, Change change, bool may_create,
                           std::optional<engine::Actor> by) {
  std::optional<core::Result<T>> answer;
  auto changer = keeping_answer<T>(answer, std::move(change), by ? &*by : nullptr);
  auto op = storage_->change(room, changer, may_create);
  if (auto done = co_await std::move(op); !done) co_return std::unexpected(done.error());
  if (!answer) co_return std::unexpected(unknown_room(room));
  co_return std::move(*answer);
}

// ---- tickets ------------------------------------------------------------------------------------

Store::Op<EnqueueResult> Store::enqueue(std::string room, std::optional<std::string> existing,
                                        bool tracks_presence, JoinOptions options) {
  std::optional<token::TicketRef> ref;
  if (existing) ref = ids_.decode(room, *existing);
  // The visitor's live ticket, if the state knows it (no write lock needed for that).
  auto live_ticket = [&](RoomSlot& s) -> std::optional<EnqueueResult> {
    if (!ref || !s.room || ref->epoch != s.room->epoch()) return std::nullopt;
    if (!s.room->has_ticket(ref->position)) return std::nullopt;
    return engine::existing_ticket(*s.room, s.ctx, ref->position, *existing);
  };
  const bool grants_place = options.code || options.invitation || options.signed_in;
  if (ref && !grants_place) {
    std::optional<EnqueueResult> live;
    if (auto r = storage_->read(room, [&](RoomSlot& s) { live = live_ticket(s); }); !r)
      co_return std::unexpected(r.error());
    if (live) co_return std::move(*live);
  }
  std::optional<token::Invitation> invitation;
  if (options.invitation) {
    auto checked = co_await check_invitation(room, *options.invitation, options.client);
    if (!checked) co_return std::unexpected(checked.error());
    invitation = std::move(*checked);
  }
  // The change inline (not through change<T>): the hottest write, one coroutine frame fewer.
  std::optional<core::Result<EnqueueResult>> answer;
  auto changer = keeping_answer<EnqueueResult>(
      answer, [&](RoomSlot& s, engine::Effects& fx) -> core::Result<EnqueueResult> {
        if (!s.room) return std::unexpected(unknown_room(room));
        engine::Join join{tracks_presence, options.code,      std::nullopt,
                          invitation,      options.signed_in, options.party_size};
        // The ticket may be one the state had not seen when asked above (made on another node).
        if (auto live = live_ticket(s)) {
          if (!grants_place || live->ticket.state.status != core::TicketStatus::waiting)
            return std::move(*live);
          join.waiting = ref->position;
        }
        return engine::enqueue(*s.room, s.ctx, join, fx);
      });
  auto op = storage_->change(room, changer, /*may_create=*/false);
  if (auto done = co_await std::move(op); !done) co_return std::unexpected(done.error());
  if (!answer) co_return std::unexpected(unknown_room(room));
  co_return std::move(*answer);
}

// The signature is checked on a copy of the room's keys, outside its lock: tens of microseconds
// that would otherwise hold up every other visitor of the room.
Store::Op<token::Invitation> Store::check_invitation(const std::string& room,
                                                     const std::string& jwt,
                                                     const std::optional<core::IpBytes>& client) {
  auto read = room_reader<core::InvitationSettings>(room, [](core::Room& rm, RoomSlot&) {
    return core::Result<core::InvitationSettings>(rm.settings().invitations);
  });
  auto keys = read_now<core::InvitationSettings>(room, read);
  if (!keys) {
    auto again = read_caught_up<core::InvitationSettings>(room, read);
    keys = co_await std::move(again);
  }
  if (!*keys) co_return std::unexpected(keys->error());
  const core::InvitationSettings& settings = **keys;
  if (settings.keys.empty() && settings.jwks_url.empty())
    co_return core::fail(core::ErrorCode::unauthorized,
                         "room " + room + " takes no invitations: it has no invitation keys");
  // A kid the room's own keys lack is looked up in its JWKS: fetched (or cached) without a lock.
  JwkSetPtr published;
  if (const auto kid = token::invitation_kid(jwt);
      jwks_ != nullptr && !settings.jwks_url.empty() && kid && settings.find(*kid) == nullptr) {
    auto fetched = co_await jwks_->keys(settings.jwks_url, *kid);
    if (!fetched) co_return std::unexpected(fetched.error());
    published = std::move(*fetched);
  }
  auto invitation = token::verify_invitation(jwt, settings, room, clock_.now_s(), published.get());
  if (!invitation) co_return std::unexpected(invitation.error());
  if (invitation->ip && client && core::parse_ip_address(*invitation->ip) != *client)
    co_return core::fail(core::ErrorCode::unauthorized,
                         "invitation is for another address than the one it came from");
  co_return std::move(*invitation);
}

void Store::render_metrics(std::string& out) const {
  storage_->render_metrics(out);
  if (jwks_ != nullptr) jwks_->render_metrics(out);
}

Store::Op<TicketView> Store::ticket(std::string room, std::string ticket) {
  const auto ref = ids_.decode(room, ticket);
  auto read = ticket_reader<TicketView>(
      room, ref, [&](core::Room& rm, RoomSlot& s, std::uint64_t position) {
        engine::mark_seen(rm, s.ctx, position, clock_.now_s());
        // Moved: an answer found is final (nothing reads again after it).
        return core::Result<TicketView>(
            engine::ticket_view(rm, s.ctx, position, std::move(ticket)));
      });
  if (auto answer = read_now<TicketView>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<TicketView>(room, read);
  co_return co_await std::move(again);
}

Store::Op<WatchedTicket> Store::watch_ticket(std::string room, std::string ticket) {
  const auto ref = ids_.decode(room, ticket);
  auto read = ticket_reader<WatchedTicket>(
      room, ref, [&](core::Room& rm, RoomSlot& s, std::uint64_t position) {
        engine::mark_seen(rm, s.ctx, position, clock_.now_s());
        return core::Result<WatchedTicket>(WatchedTicket{
            engine::ticket_view(rm, s.ctx, position, std::move(ticket)), rm.epoch(), s.change_id});
      });
  if (auto answer = read_now<WatchedTicket>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<WatchedTicket>(room, read);
  co_return co_await std::move(again);
}

Store::Op<TicketStates> Store::ticket_states(std::string room,
                                             std::span<const std::uint64_t> positions) {
  core::Result<TicketStates> answer = std::unexpected(unknown_room(room));
  auto read = storage_->read(room, [&](RoomSlot& s) {
    if (s.room) answer = engine::ticket_states(*s.room, s.ctx, positions, s.change_id);
  });
  if (!read) co_return std::unexpected(read.error());
  co_return answer;
}

// Where a ticket of this room is (its position and epoch), found as a read finds it: for changes
// that name a ticket and then take the room's write lock.
Store::Op<token::TicketRef> Store::find_ticket(const std::string& room, const std::string& ticket) {
  const auto ref = ids_.decode(room, ticket);
  auto read = ticket_reader<token::TicketRef>(
      room, ref,
      [](core::Room& rm, RoomSlot&, std::uint64_t position) -> core::Result<token::TicketRef> {
        return token::TicketRef{position, rm.epoch()};
      });
  auto found = read_now<token::TicketRef>(room, read);
  if (!found) {
    auto again = read_caught_up<token::TicketRef>(room, read);
    found = co_await std::move(again);
  }
  co_return std::move(*found);
}

Store::Op<TicketView> Store::end_session(std::string room, std::string ticket,
                                         core::TicketStatus status, std::optional<engine::Actor> by,
                                         std::uint64_t consumed) {
  auto located = find_ticket(room, ticket);
  auto position = co_await std::move(located);
  if (!position) co_return std::unexpected(position.error());
  auto op = change<TicketView>(
      std::move(room),
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<TicketView> {
        // A reset between the read and the lock: the position is another visitor's now.
        if (!s.room || s.room->epoch() != position->epoch) return std::unexpected(reset_line());
        return engine::end_session(*s.room, s.ctx, position->position, ticket, status, fx,
                                   consumed);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<engine::InventoryView> Store::inventory(std::string room) {
  using View = engine::InventoryView;
  auto read = room_reader<View>(room, [&](core::Room& rm, RoomSlot&) {
    return core::Result<View>(engine::inventory_view(rm, clock_.now_s()));
  });
  if (auto answer = read_now<View>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<View>(room, read);
  co_return co_await std::move(again);
}

Store::Op<engine::InventoryView> Store::change_inventory(std::string room,
                                                         engine::InventoryChange wanted,
                                                         std::optional<engine::Actor> by) {
  auto op = change<engine::InventoryView>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<engine::InventoryView> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::change_inventory(*s.room, s.ctx, wanted, fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

// ---- passes -------------------------------------------------------------------------------------

// The plan for the ticket's pass. A pass the state shows that is not durable yet is handed out
// once it is: after settle() it is either still there (durable: the same pass) or gone (its
// commit failed) and planned anew.
Store::Op<engine::PassPlan> Store::plan_pass(const std::string& room, const std::string& ticket,
                                             PassPlanner plan) {
  std::optional<std::string> settled;  // a pass seen before a settle: durable if seen again
  const auto ref = ids_.decode(room, ticket);
  std::uint64_t mark = 0;
  bool unsettled = false;
  auto read = ticket_reader<engine::PassPlan>(
      room, ref, [&](core::Room& rm, RoomSlot& s, std::uint64_t position) {
        unsettled = s.unsettled;
        mark = s.mark;
        return plan(rm, s.ctx, position);
      });
  // Several nodes change a room: this node's copy may not have a session another node ended a
  // moment ago, and a pass is never handed out for an ended session. Handing out a pass (once per
  // visitor, and at each renewal) can afford one look at the room's log first.
  const bool shared = storage_->shared();
  if (shared) {
    auto catch_up = storage_->catch_up(room);
    if (auto caught = co_await std::move(catch_up); !caught)
      co_return std::unexpected(caught.error());
  }
  for (int round = 0;; ++round) {
    auto planned_now = read_now<engine::PassPlan>(room, read);
    if (!planned_now) {
      auto again = read_caught_up<engine::PassPlan>(room, read);
      planned_now = co_await std::move(again);
    }
    core::Result<engine::PassPlan> planned = std::move(*planned_now);
    // "Not yet" from a state that may be a moment old (another node admitted the ticket between
    // the look at the log and the read): asked of the log once more before it is the answer.
    if (!planned && planned.error().code == ErrorCode::conflict && round == 0 && shared) {
      auto catch_up = storage_->catch_up(room);
      if (auto caught = co_await std::move(catch_up); !caught)
        co_return std::unexpected(caught.error());
      continue;
    }
    if (!planned || !planned->issued || !unsettled || planned->issued->pass == settled)
      co_return planned;
    if (round >= 2) {
      // Signed and recorded again: recording finds the pass issued and answers with it once the
      // change is durable.
      planned->issued.reset();
      co_return planned;
    }
    settled = planned->issued->pass;
    auto settle = storage_->settle(room, mark);
    if (auto done = co_await std::move(settle); !done) co_return std::unexpected(done.error());
  }
}

Store::Op<PassView> Store::hand_out_pass(std::string room, std::string ticket, PassPlanner plan,
                                         PassRecorder record, std::string_view gone) {
  auto planning = plan_pass(room, ticket, plan);
  auto planned = co_await std::move(planning);
  if (!planned) co_return std::unexpected(planned.error());
  if (planned->issued) co_return std::move(*planned->issued);
  auto pass = minter_.mint(planned->request);
  if (!pass) co_return std::unexpected(pass.error());
  auto op = change<PassView>(std::move(room),
                             [&](RoomSlot& s, engine::Effects& fx) -> core::Result<PassView> {
                               if (!s.room) return fail(ErrorCode::gone, std::string(gone));
                               return record(*s.room, s.ctx, planned->request, *pass, fx);
                             });
  auto recorded = co_await std::move(op);
  if (!recorded && recorded.error().code == ErrorCode::not_found)
    co_return fail(ErrorCode::gone, std::string(gone));
  co_return recorded;
}

Store::Op<PassView> Store::issue_pass(std::string room, std::string ticket, PassOptions options) {
  auto plan = [&](core::Room& rm, const engine::OpContext& ctx, std::uint64_t position) {
    return engine::plan_pass(rm, ctx, position, ticket, options);
  };
  auto record = [](core::Room& rm, const engine::OpContext& ctx, const core::PassRequest& request,
                   const std::string& pass,
                   engine::Effects& fx) { return engine::record_pass(rm, ctx, request, pass, fx); };
  auto op = hand_out_pass(std::move(room), ticket, plan, record,
                          "the line was reset while the pass was being issued");
  co_return co_await std::move(op);
}

Store::Op<PassView> Store::renew_pass(std::string room, std::string ticket, std::string binding) {
  auto plan = [&](core::Room& rm, const engine::OpContext& ctx, std::uint64_t position) {
    return engine::plan_renewal(rm, ctx, position, ticket, binding);
  };
  auto record = [](core::Room& rm, const engine::OpContext& ctx, const core::PassRequest& request,
                   const std::string& pass, engine::Effects& fx) {
    return engine::record_renewal(rm, ctx, request, pass, fx);
  };
  auto op = hand_out_pass(std::move(room), ticket, plan, record,
                          "this ticket has no active session to renew");
  co_return co_await std::move(op);
}

// The gate's hot path: one lock, and no HMAC on the ticket id, because the whole pass must equal
// the one issued at that position (see TicketIdCodec::decode_untrusted). Only a pass this state
// does not know is checked against a state caught up with the log, and only for a genuine id, so
// forged ones never cost a catch-up.
Store::Op<PassCheck> Store::check_pass(std::string room, std::string ticket, std::string pass) {
  const auto ref = token::TicketIdCodec::decode_untrusted(ticket);
  if (!ref) co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
  for (int attempt = 0;; ++attempt) {
    const bool last = attempt > 0 || !storage_->shared();
    std::optional<core::Result<PassCheck>> answer;
    bool unknown = true;
    auto read = storage_->read(room, [&](RoomSlot& s) {
      if (!s.room) return;
      core::Room& rm = *s.room;
      if (ref->epoch != rm.epoch()) {
        unknown = ref->epoch > rm.epoch();
        if (!unknown || last) answer.emplace(std::unexpected(reset_line()));
        return;
      }
      const std::int64_t now = clock_.now_s();
      const std::uint64_t position = ref->position;
      unknown = !(rm.has_ticket(position) && rm.session(position, now) != nullptr);
      if (unknown && !last) return;
      auto checked = engine::check_session_pass(rm, position, ticket, pass, now);
      if (checked) engine::mark_seen(rm, s.ctx, position, now);
      answer.emplace(std::move(checked));
    });
    if (!read) co_return std::unexpected(read.error());
    if (answer) co_return std::move(*answer);
    if (last || !ids_.decode(room, ticket)) break;
    auto catch_up = storage_->catch_up(room);
    if (auto caught = co_await std::move(catch_up); !caught)
      co_return std::unexpected(caught.error());
  }
  bool exists = false;
  if (auto r = storage_->read(room, [&](RoomSlot& s) { exists = s.room.has_value(); }); !r)
    co_return std::unexpected(r.error());
  if (!exists) co_return std::unexpected(unknown_room(room));
  co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
}

// ---- rooms --------------------------------------------------------------------------------------

Store::Op<RoomView> Store::room(std::string room) {
  auto read = room_reader<RoomView>(room, [&](core::Room& rm, RoomSlot&) {
    return core::Result<RoomView>(engine::room_view(rm, clock_.now_ms()));
  });
  if (auto answer = read_now<RoomView>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<RoomView>(room, read);
  co_return co_await std::move(again);
}

Store::Op<core::PassCookie> Store::pass_cookie(std::string room) {
  auto read = room_reader<core::PassCookie>(room, [](core::Room& rm, RoomSlot&) {
    return core::Result<core::PassCookie>(rm.settings().pass_cookie);
  });
  if (auto answer = read_now<core::PassCookie>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<core::PassCookie>(room, read);
  co_return co_await std::move(again);
}

Store::Op<std::vector<RoomView>> Store::rooms() {
  std::vector<RoomView> views;
  const std::int64_t now_ms = clock_.now_ms();
  storage_->for_each_room([&](RoomSlot& s) {
    if (s.room) views.push_back(engine::room_view(*s.room, now_ms));
  });
  co_return views;
}

RoomStats Store::stats_of(core::Room& rm, std::int64_t now_ms) const {
  RoomStats stats = engine::room_stats(rm, now_ms);
  if (rm.admission().mode == core::AdmissionMode::adaptive) stats.site = health_.reading(rm.name());
  return stats;
}

Store::Op<RoomStats> Store::room_stats(std::string room) {
  auto read = room_reader<RoomStats>(room, [&](core::Room& rm, RoomSlot&) {
    return core::Result<RoomStats>(stats_of(rm, clock_.now_ms()));
  });
  if (auto answer = read_now<RoomStats>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<RoomStats>(room, read);
  co_return co_await std::move(again);
}

Store::Op<std::vector<RoomStats>> Store::all_room_stats() {
  std::vector<RoomStats> stats;
  const std::int64_t now_ms = clock_.now_ms();
  storage_->for_each_room([&](RoomSlot& s) {
    if (s.room) stats.push_back(stats_of(*s.room, now_ms));
  });
  co_return stats;
}

Store::Op<std::vector<std::string>> Store::expired_tickets(std::string room) {
  auto read = room_reader<std::vector<std::string>>(room, [&](core::Room& rm, RoomSlot&) {
    return core::Result<std::vector<std::string>>(
        engine::expired_ticket_ids(rm, ids_, clock_.now_s()));
  });
  if (auto answer = read_now<std::vector<std::string>>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<std::vector<std::string>>(room, read);
  co_return co_await std::move(again);
}

Store::Op<AdmissionsPage> Store::admissions(std::string room, std::uint64_t from,
                                            std::uint64_t limit) {
  auto read = room_reader<AdmissionsPage>(room, [&](core::Room& rm, RoomSlot&) {
    return core::Result<AdmissionsPage>(engine::admissions_page(rm, ids_, from, limit));
  });
  if (auto answer = read_now<AdmissionsPage>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<AdmissionsPage>(room, read);
  co_return co_await std::move(again);
}

Store::Op<std::pair<RoomView, bool>> Store::put_room(std::string room, SettingsUpdate update,
                                                     std::optional<engine::Actor> by) {
  using Answer = std::pair<RoomView, bool>;
  auto op = change<Answer>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<Answer> {
        auto settings = engine::put_settings(room, s.room ? &*s.room : nullptr, update, s.ctx, fx);
        if (!settings) return std::unexpected(settings.error());
        const bool created = !s.room;
        if (s.room)
          s.room->set_settings(std::move(*settings));
        else
          s.room.emplace(engine::create_room(room, std::move(*settings), s.last_epoch));
        return Answer{engine::room_view(*s.room, clock_.now_ms()), created};
      },
      /*may_create=*/true, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<void> Store::delete_room(std::string room, std::optional<engine::Actor> by) {
  auto op = change<bool>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<bool> {
        if (!s.room) return std::unexpected(unknown_room(room));
        engine::delete_room(room, s.ctx, fx);
        s.room.reset();
        return true;
      },
      false, std::move(by));
  if (auto deleted = co_await std::move(op); !deleted) co_return std::unexpected(deleted.error());
  co_return core::Result<void>{};
}

Store::Op<std::uint64_t> Store::advance(std::string room, Advance advance,
                                        std::optional<engine::Actor> by) {
  auto op = change<std::uint64_t>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<std::uint64_t> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::advance(*s.room, s.ctx, advance, fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<RoomView> Store::set_paused(std::string room, bool paused,
                                      std::optional<engine::Actor> by) {
  auto op = change<RoomView>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<RoomView> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::set_paused(*s.room, s.ctx, paused, fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<RoomView> Store::reset(std::string room, std::optional<engine::Actor> by) {
  auto op = change<RoomView>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<RoomView> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::reset(*s.room, s.ctx, s.last_epoch, fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<core::RoomMessagePtr> Store::set_message(std::string room,
                                                   std::optional<std::string> text,
                                                   std::optional<engine::Actor> by) {
  auto op = change<core::RoomMessagePtr>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<core::RoomMessagePtr> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::set_message(*s.room, s.ctx, text, fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<engine::CreatedCode> Store::add_code(std::string room, engine::NewCode code,
                                               std::optional<engine::Actor> by) {
  auto op = change<engine::CreatedCode>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<engine::CreatedCode> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::add_code(*s.room, s.ctx, std::move(code), fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

Store::Op<std::vector<core::AccessCode>> Store::codes(std::string room) {
  using Codes = std::vector<core::AccessCode>;
  auto read = room_reader<Codes>(
      room, [&](core::Room& rm, RoomSlot&) { return core::Result<Codes>(rm.codes().all()); });
  if (auto answer = read_now<Codes>(room, read)) co_return std::move(*answer);
  auto again = read_caught_up<Codes>(room, read);
  co_return co_await std::move(again);
}

Store::Op<core::AccessCode> Store::revoke_code(std::string room, std::string id,
                                               std::optional<engine::Actor> by) {
  auto op = change<core::AccessCode>(
      room,
      [&](RoomSlot& s, engine::Effects& fx) -> core::Result<core::AccessCode> {
        if (!s.room) return std::unexpected(unknown_room(room));
        return engine::revoke_code(*s.room, s.ctx, id, fx);
      },
      false, std::move(by));
  co_return co_await std::move(op);
}

// ---- the admission driver -----------------------------------------------------------------------

// ---- leave and come back -----------------------------------------------------------------------

Store::Op<TicketView> Store::set_notice(std::string room, std::string ticket,
                                        engine::NoticeRequest request) {
  auto located = find_ticket(room, ticket);
  auto position = co_await std::move(located);
  if (!position) co_return std::unexpected(position.error());
  auto op = change<TicketView>(std::move(room),
                               [&](RoomSlot& s, engine::Effects& fx) -> core::Result<TicketView> {
                                 if (!s.room || s.room->epoch() != position->epoch)
                                   return std::unexpected(reset_line());
                                 return engine::set_notice(*s.room, s.ctx, position->position,
                                                           ticket, std::move(request), fx);
                               });
  co_return co_await std::move(op);
}

Store::Op<TicketView> Store::cancel_notice(std::string room, std::string ticket) {
  auto located = find_ticket(room, ticket);
  auto position = co_await std::move(located);
  if (!position) co_return std::unexpected(position.error());
  auto op = change<TicketView>(
      std::move(room), [&](RoomSlot& s, engine::Effects& fx) -> core::Result<TicketView> {
        if (!s.room || s.room->epoch() != position->epoch) return std::unexpected(reset_line());
        return engine::cancel_notice(*s.room, s.ctx, position->position, ticket, fx);
      });
  co_return co_await std::move(op);
}

std::vector<engine::PendingNotice> Store::pending_notices() const {
  std::vector<engine::PendingNotice> out;
  std::lock_guard lock(outbox_mu_);
  for (const auto& [room, due] : outbox_) out.insert(out.end(), due.begin(), due.end());
  return out;
}

Store::Op<bool> Store::notice_still_due(std::string room, std::uint32_t epoch,
                                        std::uint64_t position, core::NoticeKind kind) {
  std::uint64_t mark = 0;
  bool unsettled = false;
  auto read = room_reader<bool>(room, [&](core::Room& rm, RoomSlot& s) {
    unsettled = s.unsettled;
    mark = s.mark;
    return core::Result<bool>(engine::notice_due(rm, epoch, position, kind));
  });
  for (int round = 0;; ++round) {
    auto due = read_now<bool>(room, read);
    if (!due) {
      auto again = read_caught_up<bool>(room, read);
      due = co_await std::move(again);
    }
    // Settled once: what that read saw is durable, or was dropped and this read shows it.
    if (!*due || !**due || !unsettled || round == 1) co_return std::move(*due);
    auto settle = storage_->settle(room, mark);
    if (auto done = co_await std::move(settle); !done) co_return std::unexpected(done.error());
  }
}

Store::Op<void> Store::notice_done(std::string room, std::uint32_t epoch, std::uint64_t position,
                                   core::NoticeKind kind, bool sent, std::string reason) {
  auto op =
      change<bool>(std::move(room), [&](RoomSlot& s, engine::Effects& fx) -> core::Result<bool> {
        if (!s.room) return true;  // deleted since: nothing to say
        engine::notice_done(*s.room, s.ctx, epoch, position, kind, sent, reason, fx);
        return true;
      });
  auto done = co_await std::move(op);
  if (!done) co_return std::unexpected(done.error());
  co_return core::Result<void>{};
}

void Store::drive_admissions() {
  const std::int64_t now_ms = clock_.now_ms();
  std::int64_t last = last_metrics_ms_.load();
  const bool minute = storage_->wants_events() && now_ms - last >= 60'000 &&
                      last_metrics_ms_.compare_exchange_strong(last, now_ms);
  // Rebuilt at each step, so a room deleted or driven elsewhere since has nothing in it.
  auto outbox = std::make_shared<std::map<std::string, std::vector<engine::PendingNotice>>>();
  storage_->step_rooms(
      [this, now_ms, minute, outbox](RoomSlot& s, engine::Effects& fx, bool drives) {
        if (!s.room) return;
        if (drives) {
          // Only adaptive admission steers by the site's health: other rooms skip the lookup.
          std::optional<core::HealthReading> health;
          if (s.room->admission().mode == core::AdmissionMode::adaptive)
            health = health_.reading(s.room->name());
          engine::admission_step(*s.room, s.ctx, now_ms, minute, s.expired_sessions, fx,
                                 health ? &*health : nullptr);
        } else if (engine::observe_step(*s.room, now_ms, s.expired_sessions)) {
          fx.changed = true;
        }
        // What the notifier sends: the messages due of the rooms this node drives.
        if (drives && !s.room->notices().outbox().empty()) {
          auto due = engine::pending_notices(*s.room, s.ctx);
          std::lock_guard lock(outbox_mu_);
          (*outbox)[s.room->name()] = std::move(due);
        }
      },
      [now_ms, minute](const core::Room& room) {
        return engine::admission_step_writes_nothing(room, now_ms, minute);
      });
  std::lock_guard lock(outbox_mu_);
  outbox_ = std::move(*outbox);
}

}  // namespace waitroom::store
