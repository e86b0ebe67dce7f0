#include "store/embedded/embedded_store.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "config/room_settings_codec.hpp"
#include "core/rfc3339.hpp"
#include "ops/audit_event.hpp"
#include "store/apply_record.hpp"
#include "store/embedded/log_format.hpp"
#include "store/room_events.hpp"
#include "store/room_reads.hpp"

namespace waitroom::store {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {
constexpr std::int64_t kUnavailableRetryAfterS = 5;

core::Error unknown_room(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no room named \"" + room + "\"", 0};
}

bool is_live(core::TicketStatus status) {
  return status == core::TicketStatus::waiting || status == core::TicketStatus::eligible ||
         status == core::TicketStatus::admitted;
}

}  // namespace

core::Result<std::unique_ptr<EmbeddedStore>> EmbeddedStore::open(
    const std::filesystem::path& data_dir, bool fsync_each_batch, const core::Clock& clock,
    const token::TicketIdCodec& ids, const core::PassMinter& minter) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return fail(ErrorCode::internal, "cannot create " + data_dir.string() + ": " + ec.message());
  auto log = DurableLog::open(data_dir / kLogFileName, fsync_each_batch);
  if (!log) return std::unexpected(log.error());
  std::unique_ptr<EmbeddedStore> store(new EmbeddedStore(std::move(*log), clock, ids, minter));
  auto replayed = store->log_->replay([&](std::string_view payload) -> core::Result<void> {
    auto record = decode_record(payload);
    if (!record) return std::unexpected(record.error());
    return store->apply(*record);
  });
  if (!replayed) return std::unexpected(replayed.error());
  store->replayed_records_ = *replayed;
  for (auto& [name, entry] : store->rooms_) entry->room.refresh_presence(clock.now_s());
  return store;
}

EmbeddedStore::EmbeddedStore(std::unique_ptr<DurableLog> log, const core::Clock& clock,
                             const token::TicketIdCodec& ids, const core::PassMinter& minter)
    : log_(std::move(log)), clock_(clock), ids_(ids), minter_(minter) {}

EmbeddedStore::~EmbeddedStore() { log_->stop(); }

// Replay: each record re-applies exactly the change that was acknowledged when it was written.
core::Result<void> EmbeddedStore::apply(const LogRecord& record) {
  if (const auto* put = std::get_if<RoomPutRecord>(&record)) {
    auto settings = settings_of(*put);
    if (!settings) return std::unexpected(settings.error());
    auto it = rooms_.find(put->room);
    if (it != rooms_.end()) {
      it->second->room.set_settings(*settings);
    } else {
      auto entry = std::make_shared<Entry>(put->room, *settings, clock_.now_ms());
      entry->room.reset(last_epoch_[put->room] + 1);
      last_epoch_[put->room] = entry->room.epoch();
      rooms_.emplace(put->room, std::move(entry));
    }
    return {};
  }
  if (const auto* del = std::get_if<RoomDeleteRecord>(&record)) {
    if (rooms_.erase(del->room) == 0) return fail(ErrorCode::internal, "delete of unknown room " + del->room);
    return {};
  }
  const std::string& name = std::visit([](const auto& r) -> const std::string& { return r.room; }, record);
  auto it = rooms_.find(name);
  if (const auto* floor = std::get_if<CounterFloorRecord>(&record)) {
    // A room re-created after a repair starts past the epochs of the dropped records.
    last_epoch_[name] = std::max(last_epoch_[name], floor->epoch);
    if (it == rooms_.end()) return {};  // deleted (or not yet created) where the log was cut
  }
  if (it == rooms_.end()) return fail(ErrorCode::internal, "record for unknown room " + name);
  if (const auto* reset = std::get_if<ResetRecord>(&record)) last_epoch_[name] = reset->new_epoch;
  return apply_room_record(it->second->room, record, clock_.now_s());
}

void EmbeddedStore::emit(const std::string& room, std::string_view type, json::object data) {
  publish_event(events_, clock_, room, type, std::move(data));
}

void EmbeddedStore::emit_step(core::Room& rm, const core::Admissions& step) {
  publish_step(events_, clock_, ids_, rm, step);
}

void EmbeddedStore::emit_metrics(core::Room& rm) { publish_metrics(events_, clock_, rm); }

void EmbeddedStore::note_change(Entry& entry) {
  ++entry.change_id;
  if (changes_) changes_->room_changed(entry.room.name());
}

std::shared_ptr<EmbeddedStore::Entry> EmbeddedStore::find(const std::string& room) const {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : it->second;
}

// Decodes a ticket id against its room: forged ids are "not found", ids of an earlier epoch "gone".
core::Result<std::pair<std::shared_ptr<EmbeddedStore::Entry>, std::uint64_t>>
EmbeddedStore::find_ticket(const std::string& room, const std::string& ticket) const {
  auto entry = find(room);
  if (!entry) return std::unexpected(unknown_room(room));
  auto ref = ids_.decode(room, ticket);
  if (!ref) return fail(ErrorCode::not_found, "no such ticket in room \"" + room + "\"");
  std::lock_guard lock(entry->mu);
  if (ref->epoch != entry->room.epoch())
    return fail(ErrorCode::gone, "this ticket belongs to a line that was reset; join again");
  if (!entry->room.has_ticket(ref->position))
    return fail(ErrorCode::not_found, "no such ticket in room \"" + room + "\"");
  return std::pair{entry, ref->position};
}

std::uint64_t EmbeddedStore::append_record(const LogRecord& record) {
  return log_->append(encode_record(record), /*wake_writer=*/false);  // durable() wakes it
}

boost::asio::awaitable<bool> EmbeddedStore::durable(std::uint64_t lsn) {
  if (log_->is_durable(lsn)) co_return true;
  co_return co_await log_->async_wait(lsn, boost::asio::use_awaitable);
}

core::Result<void> EmbeddedStore::writable() const {
  if (log_->failed())
    return fail(ErrorCode::unavailable, "the store cannot write to disk", kUnavailableRetryAfterS);
  return {};
}

RoomView EmbeddedStore::view_of(core::Room& room) { return room_view(room, clock_.now_ms()); }

TicketView EmbeddedStore::ticket_view(core::Room& room, std::uint64_t position,
                                      std::optional<std::string> id) {
  if (!id) id = ids_.encode(room.name(), room.epoch(), position);
  return TicketView{std::move(*id), room.name(), room.ticket(position, clock_.now_s())};
}

// The shape every single-room change shares: refuse when the store cannot write, find the room,
// and under its lock apply the change and append its record, so the log keeps the room's changes
// in the order they happened. The caller then waits for the returned lsn before answering.
template <class T, class Apply>
core::Result<std::pair<T, std::uint64_t>> EmbeddedStore::change_room(const std::string& room,
                                                                     Notify notify, Apply&& apply) {
  if (auto w = writable(); !w) return std::unexpected(w.error());
  auto entry = find(room);
  if (!entry) return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  if (entry->deleted) return std::unexpected(unknown_room(room));
  const std::uint64_t serving_before = entry->room.serving();
  Change<T> result = apply(entry->room);
  if (!result) return std::unexpected(result.error());
  const std::uint64_t lsn = append_record(result->second);
  if (notify == Notify::always || entry->room.serving() != serving_before) note_change(*entry);
  return std::pair{std::move(result->first), lsn};
}

#define WAITROOM_DURABLE_OR_503(lsn)                                                            \
  if (!co_await durable(lsn))                                                                   \
  co_return fail(ErrorCode::unavailable, "the store could not make the change durable",        \
                 kUnavailableRetryAfterS)

Store::Op<EnqueueResult> EmbeddedStore::enqueue(std::string room, std::optional<std::string> existing,
                                                bool tracks_presence) {
  if (existing) {
    if (auto found = find_ticket(room, *existing)) {
      auto& [entry, position] = *found;
      std::lock_guard lock(entry->mu);
      entry->room.mark_seen(position, clock_.now_s());
      TicketView view = ticket_view(entry->room, position, std::move(*existing));
      // A visitor whose ticket is over (expired, or its session ended) joins again at the tail.
      if (is_live(view.state.status)) co_return EnqueueResult{std::move(view), false};
    }
  }
  // A new ticket changes nobody else's status, unless it was let in at once and moved the
  // serving counter along.
  auto changed = change_room<TicketView>(room, Notify::if_serving_moved, [&](core::Room& rm) -> Change<TicketView> {
    const std::int64_t now = clock_.now_s();
    auto admit = rm.admits_on_arrival(now);
    if (!admit) return std::unexpected(admit.error());
    const std::uint8_t flags = static_cast<std::uint8_t>((tracks_presence ? core::kTracksPresence : 0) |
                                                         (*admit ? core::kAdmittedOnArrival : 0));
    auto position = rm.enqueue(now, 1, flags);
    if (!position) return std::unexpected(position.error());
    TicketView view = ticket_view(rm, *position);
    if (events_) {
      emit(room, "ticket.issued", {{"ticket", view.ticket}, {"position", *position}, {"status", core::to_string(view.state.status)}});
      if (view.state.admitted_at_s)
        emit(room, "ticket.admitted", {{"ticket", view.ticket}, {"position", *position}, {"admitted_at", *view.state.admitted_at_s}});
    }
    return std::pair{std::move(view), EnqueueRecord{room, rm.epoch(), *position, 1, now, flags}};
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return EnqueueResult{std::move(changed->first), true};
}

Store::Op<TicketView> EmbeddedStore::ticket(std::string room, std::string ticket) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  std::lock_guard lock(entry->mu);
  entry->room.mark_seen(position, clock_.now_s());
  co_return ticket_view(entry->room, position, std::move(ticket));
}

Store::Op<WatchedTicket> EmbeddedStore::watch_ticket(std::string room, std::string ticket) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  std::lock_guard lock(entry->mu);
  entry->room.mark_seen(position, clock_.now_s());
  co_return WatchedTicket{ticket_view(entry->room, position, std::move(ticket)),
                          entry->room.epoch(), entry->change_id};
}

Store::Op<TicketStates> EmbeddedStore::ticket_states(std::string room,
                                                     std::span<const std::uint64_t> positions) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  TicketStates out;
  out.states.reserve(positions.size());
  std::lock_guard lock(entry->mu);
  if (entry->deleted) co_return std::unexpected(unknown_room(room));
  core::Room& rm = entry->room;
  const std::int64_t now = clock_.now_s();
  out.epoch = rm.epoch();
  out.change_id = entry->change_id;
  for (std::uint64_t p : positions) {
    if (!rm.has_ticket(p)) {
      out.states.emplace_back();
      continue;
    }
    rm.mark_seen(p, now);
    out.states.emplace_back(rm.ticket(p, now));
  }
  co_return out;
}

Store::Op<PassView> EmbeddedStore::issue_pass(std::string room, std::string ticket,
                                              PassOptions options) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  const std::int64_t now = clock_.now_s();

  core::PassRequest request;
  std::optional<std::pair<PassView, std::uint64_t>> existing;  // the pass and its record's lsn
  {
    std::lock_guard lock(entry->mu);
    core::Room& rm = entry->room;
    rm.mark_seen(position, now);
    if (auto allowed = rm.check_pass_allowed(position, now); !allowed)
      co_return std::unexpected(allowed.error());
    if (const core::Session* s = rm.session(position, now)) {
      existing.emplace(pass_view(*s, now), s->lsn);
    } else {
      if (auto w = writable(); !w) co_return std::unexpected(w.error());
      const core::RoomSettings& st = rm.settings();
      request = core::PassRequest{room,
                                  st.algorithm,
                                  options.issuer.value_or(st.issuer),
                                  rm.audience(),
                                  ticket,
                                  position,
                                  rm.epoch(),
                                  now,
                                  now + options.lifetime_s.value_or(st.pass_lifetime_s),
                                  core::pass_binding(st.abuse.bind_pass, options.client_prefix)};
    }
  }
  if (existing) {
    // Another request issued it; it is only handed out once its record is durable.
    WAITROOM_DURABLE_OR_503(existing->second);
    co_return existing->first;
  }

  // Signing is the expensive step: done outside the room's lock so other visitors are not held.
  auto pass = minter_.mint(request);
  if (!pass) co_return std::unexpected(pass.error());

  PassView view;
  std::uint64_t lsn = 0;
  {
    std::lock_guard lock(entry->mu);
    core::Room& rm = entry->room;
    if (entry->deleted || rm.epoch() != request.epoch)
      co_return fail(ErrorCode::gone, "the line was reset while the pass was being issued");
    if (auto allowed = rm.check_pass_allowed(position, now); !allowed)
      co_return std::unexpected(allowed.error());
    if (const core::Session* s = rm.session(position, now)) {
      view = pass_view(*s, now);  // a concurrent request issued it first: everyone gets that one
      lsn = s->lsn;
    } else {
      lsn = append_record(PassIssuedRecord{room, request.epoch, position, now,
                                                        request.expires_at_s, *pass});
      // AWS's detail type and fields, plus ours.
      emit(room, "token_generated", {{"event_id", room}, {"request_id", ticket}, {"position", position},
                                     {"expires_at", request.expires_at_s}});
      view = pass_view(rm.add_session(
          position, core::Session{*pass, now, request.expires_at_s, core::SessionStatus::active, lsn, {}, 0}),
          now);
      note_change(*entry);  // the ticket is admitted now
    }
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return view;
}

Store::Op<PassCheck> EmbeddedStore::check_pass(std::string room, std::string ticket, std::string pass) {
  // The gate's hot path: one lock, and no HMAC on the ticket id, because the whole pass must equal
  // the one issued at that position (see TicketIdCodec::decode_untrusted).
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  const auto ref = token::TicketIdCodec::decode_untrusted(ticket);
  if (!ref) co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
  const std::uint64_t position = ref->position;
  std::lock_guard lock(entry->mu);
  if (entry->deleted) co_return std::unexpected(unknown_room(room));
  if (ref->epoch != entry->room.epoch())
    co_return fail(ErrorCode::gone, "this ticket belongs to a line that was reset; join again");
  const std::int64_t now = clock_.now_s();
  auto checked = check_session_pass(entry->room, position, std::move(ticket), std::move(pass), now);
  if (checked) entry->room.mark_seen(position, now);
  co_return checked;
}

Store::Op<PassView> EmbeddedStore::renew_pass(std::string room, std::string ticket, std::string binding) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  const std::int64_t now = clock_.now_s();
  auto fresh = [now](const core::Session& s, const core::RoomSettings& st) {
    return (s.expires_at_s - now) * 2 >= st.pass_lifetime_s;
  };
  core::PassRequest request;
  {
    std::lock_guard lock(entry->mu);
    core::Room& rm = entry->room;
    const core::Session* s = rm.session(position, now);
    if (!s || s->status != core::SessionStatus::active)
      co_return fail(ErrorCode::gone, "this ticket has no active session to renew");
    const core::RoomSettings& st = rm.settings();
    if (fresh(*s, st)) co_return pass_view(*s, now);  // renewed already (or not due)
    if (auto w = writable(); !w) co_return std::unexpected(w.error());
    request = core::PassRequest{room,  st.algorithm, st.issuer, rm.audience(), ticket, position, rm.epoch(),
                                now,   now + st.pass_lifetime_s, std::move(binding)};
  }
  // Signed outside the room's lock, as a first issuance is.
  auto pass = minter_.mint(request);
  if (!pass) co_return std::unexpected(pass.error());
  PassView view;
  std::uint64_t lsn = 0;
  {
    std::lock_guard lock(entry->mu);
    core::Room& rm = entry->room;
    const core::Session* s = rm.session(position, now);
    if (!s || s->status != core::SessionStatus::active || rm.epoch() != request.epoch)
      co_return fail(ErrorCode::gone, "this ticket has no active session to renew");
    if (fresh(*s, rm.settings())) {
      view = pass_view(*s, now);  // a concurrent request renewed it first: everyone gets that one
      lsn = s->lsn;
    } else {
      lsn = append_record(PassRenewedRecord{room, request.epoch, position, request.expires_at_s, *pass});
      if (auto renewed = rm.renew_session(position, *pass, request.expires_at_s, lsn); !renewed)
        co_return std::unexpected(renewed.error());
      emit(room, "session_renewed", {{"event_id", room}, {"request_id", ticket}, {"position", position},
                                     {"expires_at", request.expires_at_s}});
      view = PassView{*pass, request.expires_at_s, request.expires_at_s - now};
    }
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return view;
}

Store::Op<RoomView> EmbeddedStore::room(std::string room) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  co_return view_of(entry->room);
}

Store::Op<core::PassCookie> EmbeddedStore::pass_cookie(std::string room) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  co_return entry->room.settings().pass_cookie;
}

Store::Op<std::vector<RoomView>> EmbeddedStore::rooms() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  std::vector<RoomView> views;
  views.reserve(entries.size());
  for (auto& entry : entries) {
    std::lock_guard lock(entry->mu);
    views.push_back(view_of(entry->room));
  }
  co_return views;
}

Store::Op<std::pair<RoomView, bool>> EmbeddedStore::put_room(std::string room, SettingsUpdate update) {
  if (auto w = writable(); !w) co_return std::unexpected(w.error());
  RoomView view;
  bool created = false;
  std::uint64_t lsn = 0;
  {
    std::unique_lock map_lock(rooms_mu_);
    auto it = rooms_.find(room);
    std::optional<core::RoomSettings> current;
    std::unique_lock<std::mutex> room_lock;
    if (it != rooms_.end()) {
      room_lock = std::unique_lock(it->second->mu);
      current = it->second->room.settings();
    }
    auto settings = update(current);
    if (!settings) co_return std::unexpected(settings.error());
    // The log keeps OIDC client secrets (it restores the room); the audit event does not.
    lsn = append_record(RoomPutRecord{
        room, json::serialize(config::room_settings_to_json(*settings, config::Secrets::include))});
    emit(room, "policy.changed",
         {{"created", it == rooms_.end()},
          {"settings", config::room_settings_to_json(*settings, config::Secrets::redact)}});
    if (it != rooms_.end()) {
      it->second->room.set_settings(*settings);
      view = view_of(it->second->room);
      note_change(*it->second);  // e.g. paused, or a new policy changes the estimates
    } else {
      auto entry = std::make_shared<Entry>(room, *settings, clock_.now_ms());
      entry->room.reset(last_epoch_[room] + 1);
      last_epoch_[room] = entry->room.epoch();
      view = view_of(entry->room);
      rooms_.emplace(room, std::move(entry));
      created = true;
    }
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return std::pair{std::move(view), created};
}

Store::Op<void> EmbeddedStore::delete_room(std::string room) {
  if (auto w = writable(); !w) co_return std::unexpected(w.error());
  std::uint64_t lsn = 0;
  {
    std::unique_lock map_lock(rooms_mu_);
    auto it = rooms_.find(room);
    if (it == rooms_.end()) co_return std::unexpected(unknown_room(room));
    std::lock_guard room_lock(it->second->mu);
    it->second->deleted = true;
    lsn = append_record(RoomDeleteRecord{room});
    emit(room, "room.deleted", {});
    note_change(*it->second);  // its streams end
    rooms_.erase(it);
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return core::Result<void>{};
}

Store::Op<std::uint64_t> EmbeddedStore::advance(std::string room, Advance advance) {
  auto changed = change_room<std::uint64_t>(room, Notify::always, [&](core::Room& rm) -> Change<std::uint64_t> {
    const std::int64_t now = clock_.now_s();
    auto moved = advance.to ? rm.advance_to(*advance.to, now) : rm.advance_by(advance.by.value_or(0), now);
    if (!moved) return std::unexpected(moved.error());
    emit(room, "serving.advanced", {{"previous", moved->cursor_from}, {"serving", moved->cursor_to},
                                    {"admitted", moved->admitted.size()}});
    emit_step(rm, *moved);
    return std::pair{rm.serving(), LogRecord(admit_record(room, rm.epoch(), *moved))};
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return changed->first;
}

Store::Op<RoomView> EmbeddedStore::set_paused(std::string room, bool paused) {
  auto changed = change_room<RoomView>(room, Notify::always, [&](core::Room& rm) -> Change<RoomView> {
    core::RoomSettings st = rm.settings();
    st.state = paused ? core::RoomState::paused : core::RoomState::open;
    rm.set_settings(st);
    emit(room, paused ? "room.paused" : "room.resumed", {});
    return std::pair{view_of(rm),
                     RoomPutRecord{room, json::serialize(config::room_settings_to_json(st, config::Secrets::include))}};
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return std::move(changed->first);
}

Store::Op<RoomView> EmbeddedStore::reset(std::string room) {
  if (auto w = writable(); !w) co_return std::unexpected(w.error());
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  RoomView view;
  std::uint64_t lsn = 0;
  {
    std::unique_lock map_lock(rooms_mu_);  // last_epoch_ is shared with put_room
    std::lock_guard lock(entry->mu);
    if (entry->deleted) co_return std::unexpected(unknown_room(room));
    const std::uint32_t epoch = entry->room.epoch() + 1;
    if (epoch > core::kMaxEpoch)
      co_return fail(ErrorCode::conflict, "this room has been reset too often; delete and re-create it");
    entry->room.reset(epoch);
    last_epoch_[room] = epoch;
    lsn = append_record(ResetRecord{room, epoch});
    emit(room, "room.reset", {{"epoch", epoch}});
    note_change(*entry);  // every ticket of the old epoch is gone
    view = view_of(entry->room);
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return view;
}

Store::Op<TicketView> EmbeddedStore::end_session(std::string room, std::string ticket,
                                                 core::SessionStatus status) {
  if (auto w = writable(); !w) co_return std::unexpected(w.error());
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  TicketView view;
  std::uint64_t lsn = 0;
  {
    std::lock_guard lock(entry->mu);
    core::Room& rm = entry->room;
    auto changed = rm.end_session(position, status, clock_.now_s());
    if (!changed) co_return std::unexpected(changed.error());
    if (*changed) {
      lsn = append_record(SessionEndRecord{room, rm.epoch(), position, status});
      emit(room, "session_updated", {{"event_id", room}, {"request_id", ticket}, {"status", core::to_string(status)}});
      note_change(*entry);
    }
    view = ticket_view(rm, position);
  }
  if (lsn != 0) WAITROOM_DURABLE_OR_503(lsn);
  co_return view;
}

Store::Op<std::vector<std::string>> EmbeddedStore::expired_tickets(std::string room) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  co_return expired_ticket_ids(entry->room, ids_, clock_.now_s());
}

Store::Op<AdmissionsPage> EmbeddedStore::admissions(std::string room, std::uint64_t from,
                                                    std::uint64_t limit) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  co_return admissions_page(entry->room, ids_, from, limit);
}

void EmbeddedStore::drive_admissions() {
  if (log_->failed()) return;  // nothing may change that cannot be made durable
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    entries.reserve(rooms_.size());
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  const std::int64_t now_ms = clock_.now_ms();
  std::int64_t last = last_metrics_ms_.load();
  const bool minute = events_ && now_ms - last >= 60'000 && last_metrics_ms_.compare_exchange_strong(last, now_ms);
  for (auto& entry : entries) {
    std::lock_guard lock(entry->mu);
    if (entry->deleted) continue;
    core::Room& rm = entry->room;
    core::Admissions step = rm.tick(now_ms);
    emit_step(rm, step);
    if (minute) emit_metrics(rm);
    // Sessions that ran out by time change their tickets' status without any step to log.
    const std::uint64_t expired = changes_ ? rm.counters(now_ms / 1000).expired : 0;
    if (step.changed || !step.transitions.empty() || expired != entry->expired_sessions) {
      entry->expired_sessions = expired;
      note_change(*entry);
    }
    // Nobody waits on this record; visitors see the admission when they next ask, and a pass is
    // only handed out once its own (later) record is durable.
    for (const core::EventTransition& t : step.transitions)
      log_->append(encode_record(event_record(rm.name(), rm.epoch(), t)));
    if (step.changed) log_->append(encode_record(admit_record(rm.name(), rm.epoch(), step)));
  }
}

core::Result<void> EmbeddedStore::fill(const std::string& room, std::uint64_t count) {
  auto entry = find(room);
  if (!entry) return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  const std::int64_t now = clock_.now_s();
  // One record per ticket, exactly as live enqueues write them, so that restart benchmarks
  // replay what a real surge leaves behind.
  for (std::uint64_t i = 0; i < count; ++i) {
    auto position = entry->room.enqueue(now, 1, core::kTracksPresence);
    if (!position) return std::unexpected(position.error());
    log_->append(encode_record(EnqueueRecord{room, entry->room.epoch(), *position, 1, now, core::kTracksPresence}));  // wakes the writer
  }
  return {};
}

}  // namespace waitroom::store
