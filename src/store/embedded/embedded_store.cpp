#include "store/embedded/embedded_store.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "engine/apply_record.hpp"
#include "engine/room_reads.hpp"
#include "store/embedded/log_format.hpp"

namespace waitroom::store {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {
constexpr std::int64_t kUnavailableRetryAfterS = 5;

core::Error unknown_room(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no room named \"" + room + "\"", 0};
}

}  // namespace

core::Result<std::unique_ptr<EmbeddedStore>> EmbeddedStore::open(
    const std::filesystem::path& data_dir, bool fsync_each_batch, const core::Clock& clock,
    const token::TicketIdCodec& ids, const core::PassMinter& minter) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return fail(ErrorCode::internal, "cannot create " + data_dir.string() + ": " + ec.message());
  auto log = DurableLog::open(data_dir / kLogFileName, fsync_each_batch);
  if (!log) return std::unexpected(log.error());
  std::unique_ptr<EmbeddedStore> store(new EmbeddedStore(std::move(*log), clock, ids, minter));
  auto replayed = store->log_->replay([&](std::string_view payload) -> core::Result<void> {
    auto record = engine::decode_record(payload);
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
core::Result<void> EmbeddedStore::apply(const engine::LogRecord& record) {
  if (const auto* put = std::get_if<engine::RoomPutRecord>(&record)) {
    auto settings = engine::settings_of(*put);
    if (!settings) return std::unexpected(settings.error());
    auto it = rooms_.find(put->room);
    if (it != rooms_.end()) {
      it->second->room.set_settings(*settings);
    } else {
      core::Room room =
          engine::create_room(put->room, std::move(*settings), last_epoch_[put->room]);
      rooms_.emplace(put->room, std::make_shared<Entry>(std::move(room), clock_.now_ms()));
    }
    return {};
  }
  if (const auto* del = std::get_if<engine::RoomDeleteRecord>(&record)) {
    if (rooms_.erase(del->room) == 0)
      return fail(ErrorCode::internal, "delete of unknown room " + del->room);
    return {};
  }
  const std::string& name =
      std::visit([](const auto& r) -> const std::string& { return r.room; }, record);
  auto it = rooms_.find(name);
  if (const auto* floor = std::get_if<engine::CounterFloorRecord>(&record)) {
    // A room re-created after a repair starts past the epochs of the dropped records.
    last_epoch_[name] = std::max(last_epoch_[name], floor->epoch);
    if (it == rooms_.end()) return {};  // deleted (or not yet created) where the log was cut
  }
  if (it == rooms_.end()) return fail(ErrorCode::internal, "record for unknown room " + name);
  if (const auto* reset = std::get_if<engine::ResetRecord>(&record))
    last_epoch_[name] = reset->new_epoch;
  return engine::apply_room_record(it->second->room, record, clock_.now_s());
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

std::uint64_t EmbeddedStore::commit(const std::shared_ptr<Entry>& entry, engine::Effects&& fx) {
  std::uint64_t lsn = 0;
  for (const engine::LogRecord& record : fx.records)
    lsn = log_->append(engine::encode_record(record), /*wake_writer=*/false);  // durable() wakes it
  if (lsn != 0) {
    std::uint64_t seen = appended_.load();
    while (seen < lsn && !appended_.compare_exchange_weak(seen, lsn)) {
    }
  } else {
    lsn = appended_.load();  // nothing of its own to write: announced after what came before
  }
  if (fx.events.empty() && !fx.changed) return lsn;
  std::lock_guard lock(outbox_mu_);
  outbox_.emplace(lsn, Announcement{entry, std::move(fx.events), fx.changed});
  return lsn;
}

void EmbeddedStore::announce_durable() {
  std::lock_guard announcing(announce_mu_);
  for (;;) {
    Announcement next;
    {
      std::lock_guard lock(outbox_mu_);
      if (outbox_.empty() || !log_->is_durable(outbox_.begin()->first)) return;
      next = std::move(outbox_.begin()->second);
      outbox_.erase(outbox_.begin());
    }
    if (events_)
      for (const ops::Event& event : next.events) events_->publish(event);
    if (next.changed) {
      {
        std::lock_guard lock(next.entry->mu);
        ++next.entry->change_id;
      }
      if (changes_) changes_->room_changed(next.entry->room.name());
    }
  }
}

boost::asio::awaitable<bool> EmbeddedStore::durable(std::uint64_t lsn) {
  bool ok = log_->is_durable(lsn);
  if (!ok) ok = co_await log_->async_wait(lsn, boost::asio::use_awaitable);
  if (ok) announce_durable();
  co_return ok;
}

core::Result<void> EmbeddedStore::writable() const {
  if (log_->failed())
    return fail(ErrorCode::unavailable, "the store cannot write to disk", kUnavailableRetryAfterS);
  return {};
}

RoomView EmbeddedStore::view_of(core::Room& room) {
  return engine::room_view(room, clock_.now_ms());
}

// The shape every change of one room shares: refuse when the store cannot write, find the room,
// and under its lock run the operation and append its records, so the log keeps the room's
// changes in the order they happened. The caller then waits for the returned lsn.
template <class T, class Operation>
core::Result<std::pair<T, std::uint64_t>> EmbeddedStore::change_room(const std::string& room,
                                                                     Operation&& op) {
  if (auto w = writable(); !w) return std::unexpected(w.error());
  auto entry = find(room);
  if (!entry) return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  if (entry->deleted) return std::unexpected(unknown_room(room));
  engine::Effects fx = effects();
  core::Result<T> result = op(entry->room, fx);
  if (!result) return std::unexpected(result.error());
  const std::uint64_t lsn = commit(entry, std::move(fx));
  return std::pair{std::move(*result), lsn};
}

#define WAITROOM_DURABLE_OR_503(lsn)                                                    \
  if (!co_await durable(lsn))                                                           \
  co_return fail(ErrorCode::unavailable, "the store could not make the change durable", \
                 kUnavailableRetryAfterS)

Store::Op<EnqueueResult> EmbeddedStore::enqueue(std::string room,
                                                std::optional<std::string> existing,
                                                bool tracks_presence) {
  const engine::OpContext ctx = context();
  if (existing) {
    if (auto found = find_ticket(room, *existing)) {
      auto& [entry, position] = *found;
      std::lock_guard lock(entry->mu);
      if (auto live = engine::existing_ticket(entry->room, ctx, position, std::move(*existing)))
        co_return std::move(*live);
    }
  }
  auto changed = change_room<EnqueueResult>(room, [&](core::Room& rm, engine::Effects& fx) {
    return engine::enqueue(rm, ctx, tracks_presence, fx);
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return std::move(changed->first);
}

Store::Op<TicketView> EmbeddedStore::ticket(std::string room, std::string ticket) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  const engine::OpContext ctx = context();
  std::lock_guard lock(entry->mu);
  engine::mark_seen(entry->room, ctx, position, clock_.now_s());
  co_return engine::ticket_view(entry->room, ctx, position, std::move(ticket));
}

Store::Op<WatchedTicket> EmbeddedStore::watch_ticket(std::string room, std::string ticket) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  const engine::OpContext ctx = context();
  std::lock_guard lock(entry->mu);
  engine::mark_seen(entry->room, ctx, position, clock_.now_s());
  co_return WatchedTicket{engine::ticket_view(entry->room, ctx, position, std::move(ticket)),
                          entry->room.epoch(), entry->change_id};
}

Store::Op<TicketStates> EmbeddedStore::ticket_states(std::string room,
                                                     std::span<const std::uint64_t> positions) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  if (entry->deleted) co_return std::unexpected(unknown_room(room));
  co_return engine::ticket_states(entry->room, context(), positions, entry->change_id);
}

// Both ways a pass is handed out (a first issuance, a renewal): planned under the room's lock,
// signed outside it (the expensive step, so other visitors are not held), recorded under the lock
// again. A pass issued already is handed out again once everything appended so far is durable.
Store::Op<PassView> EmbeddedStore::hand_out_pass(std::string room, std::string ticket,
                                                 PassPlanner plan_op, PassRecorder record_op,
                                                 std::string_view gone) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  auto& [entry, position] = *found;
  core::Result<engine::PassPlan> plan;
  std::uint64_t issued_by = 0;
  {
    std::lock_guard lock(entry->mu);
    plan = plan_op(entry->room, position);
    if (plan && !plan->issued)
      if (auto w = writable(); !w) co_return std::unexpected(w.error());
    issued_by = appended_.load();
  }
  if (!plan) co_return std::unexpected(plan.error());
  if (plan->issued) {
    WAITROOM_DURABLE_OR_503(issued_by);
    co_return std::move(*plan->issued);
  }
  auto pass = minter_.mint(plan->request);
  if (!pass) co_return std::unexpected(pass.error());
  auto recorded = change_room<PassView>(room, [&](core::Room& rm, engine::Effects& fx) {
    return record_op(rm, plan->request, *pass, fx);
  });
  if (!recorded) {
    if (recorded.error().code == ErrorCode::not_found)
      co_return fail(ErrorCode::gone, std::string(gone));
    co_return std::unexpected(recorded.error());
  }
  WAITROOM_DURABLE_OR_503(recorded->second);
  co_return std::move(recorded->first);
}

Store::Op<PassView> EmbeddedStore::issue_pass(std::string room, std::string ticket,
                                              PassOptions options) {
  const engine::OpContext ctx = context();
  auto plan = [&](core::Room& rm, std::uint64_t position) {
    return engine::plan_pass(rm, ctx, position, ticket, options);
  };
  auto record = [&](core::Room& rm, const core::PassRequest& request, const std::string& pass,
                    engine::Effects& fx) {
    return engine::record_pass(rm, ctx, request, pass, fx);
  };
  auto op = hand_out_pass(room, ticket, plan, record,
                          "the line was reset while the pass was being issued");
  co_return co_await std::move(op);
}

Store::Op<PassCheck> EmbeddedStore::check_pass(std::string room, std::string ticket,
                                               std::string pass) {
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
  auto checked =
      engine::check_session_pass(entry->room, position, std::move(ticket), std::move(pass), now);
  if (checked) entry->room.mark_seen(position, now);
  co_return checked;
}

Store::Op<PassView> EmbeddedStore::renew_pass(std::string room, std::string ticket,
                                              std::string binding) {
  const engine::OpContext ctx = context();
  auto plan = [&](core::Room& rm, std::uint64_t position) {
    return engine::plan_renewal(rm, ctx, position, ticket, binding);
  };
  auto record = [&](core::Room& rm, const core::PassRequest& request, const std::string& pass,
                    engine::Effects& fx) {
    return engine::record_renewal(rm, ctx, request, pass, fx);
  };
  auto op = hand_out_pass(room, ticket, plan, record, "this ticket has no active session to renew");
  co_return co_await std::move(op);
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

Store::Op<std::pair<RoomView, bool>> EmbeddedStore::put_room(std::string room,
                                                             SettingsUpdate update) {
  if (auto w = writable(); !w) co_return std::unexpected(w.error());
  const engine::OpContext ctx = context();
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
    engine::Effects fx = effects();
    auto settings = engine::put_settings(room, current, update, ctx, fx);
    if (!settings) co_return std::unexpected(settings.error());
    std::shared_ptr<Entry> entry;
    if (it != rooms_.end()) {
      entry = it->second;
      entry->room.set_settings(std::move(*settings));
    } else {
      core::Room created_room = engine::create_room(room, std::move(*settings), last_epoch_[room]);
      entry = std::make_shared<Entry>(std::move(created_room), clock_.now_ms());
      rooms_.emplace(room, entry);
      created = true;
    }
    view = view_of(entry->room);
    lsn = commit(entry, std::move(fx));
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
    engine::Effects fx = effects();
    engine::delete_room(room, context(), fx);
    lsn = commit(it->second, std::move(fx));
    rooms_.erase(it);
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return core::Result<void>{};
}

Store::Op<std::uint64_t> EmbeddedStore::advance(std::string room, Advance advance) {
  const engine::OpContext ctx = context();
  auto changed = change_room<std::uint64_t>(room, [&](core::Room& rm, engine::Effects& fx) {
    return engine::advance(rm, ctx, advance, fx);
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return changed->first;
}

Store::Op<RoomView> EmbeddedStore::set_paused(std::string room, bool paused) {
  const engine::OpContext ctx = context();
  auto changed = change_room<RoomView>(room, [&](core::Room& rm, engine::Effects& fx) {
    return engine::set_paused(rm, ctx, paused, fx);
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return std::move(changed->first);
}

Store::Op<RoomView> EmbeddedStore::reset(std::string room) {
  if (auto w = writable(); !w) co_return std::unexpected(w.error());
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  core::Result<RoomView> view;
  std::uint64_t lsn = 0;
  {
    std::unique_lock map_lock(rooms_mu_);  // last_epoch_ is shared with put_room
    std::lock_guard lock(entry->mu);
    if (entry->deleted) co_return std::unexpected(unknown_room(room));
    engine::Effects fx = effects();
    view = engine::reset(entry->room, context(), last_epoch_[room], fx);
    if (!view) co_return std::unexpected(view.error());
    lsn = commit(entry, std::move(fx));
  }
  WAITROOM_DURABLE_OR_503(lsn);
  co_return std::move(*view);
}

Store::Op<TicketView> EmbeddedStore::end_session(std::string room, std::string ticket,
                                                 core::TicketStatus status) {
  auto found = find_ticket(room, ticket);
  if (!found) co_return std::unexpected(found.error());
  const engine::OpContext ctx = context();
  auto changed = change_room<TicketView>(room, [&](core::Room& rm, engine::Effects& fx) {
    return engine::end_session(rm, ctx, found->second, ticket, status, fx);
  });
  if (!changed) co_return std::unexpected(changed.error());
  WAITROOM_DURABLE_OR_503(changed->second);
  co_return std::move(changed->first);
}

Store::Op<std::vector<std::string>> EmbeddedStore::expired_tickets(std::string room) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  co_return engine::expired_ticket_ids(entry->room, ids_, clock_.now_s());
}

Store::Op<AdmissionsPage> EmbeddedStore::admissions(std::string room, std::uint64_t from,
                                                    std::uint64_t limit) {
  auto entry = find(room);
  if (!entry) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  co_return engine::admissions_page(entry->room, ids_, from, limit);
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
  const bool minute =
      events_ && now_ms - last >= 60'000 && last_metrics_ms_.compare_exchange_strong(last, now_ms);
  const engine::OpContext ctx = context();
  std::uint64_t lsn = 0;
  for (auto& entry : entries) {
    std::lock_guard lock(entry->mu);
    if (entry->deleted) continue;
    engine::Effects fx = effects();
    engine::admission_step(entry->room, ctx, now_ms, minute, entry->expired_sessions, fx);
    if (!fx.empty()) lsn = std::max(lsn, commit(entry, std::move(fx)));
  }
  // Nobody waits on the steps' records: their announcements leave once the log has them.
  if (lsn != 0)
    log_->async_wait(lsn, [this](bool ok) {
      if (ok) announce_durable();
    });
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
    const std::uint64_t lsn = log_->append(engine::encode_record(engine::EnqueueRecord{
        room, entry->room.epoch(), *position, 1, now, core::kTracksPresence}));  // wakes the writer
    appended_.store(lsn);
  }
  return {};
}

}  // namespace waitroom::store
