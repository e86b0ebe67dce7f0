#include "store/redis/redis_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <future>

#include "engine/room_reads.hpp"
#include "ops/log.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using namespace internal;

RedisStore::RedisStore(RedisOptions options, std::string key_prefix, const core::Clock& clock,
                       const token::TicketIdCodec& ids, const core::PassMinter& minter)
    : options_(std::move(options)),
      keys_(std::move(key_prefix)),
      clock_(clock),
      ids_(ids),
      minter_(minter),
      node_(random_node_id()) {
  redis_ = std::make_unique<RedisConnection>(ctx_.get_executor(), options_);
}

core::Result<std::unique_ptr<RedisStore>> RedisStore::open(RedisOptions options,
                                                           std::string key_prefix,
                                                           const core::Clock& clock,
                                                           const token::TicketIdCodec& ids,
                                                           const core::PassMinter& minter) {
  std::unique_ptr<RedisStore> store(
      new RedisStore(std::move(options), std::move(key_prefix), clock, ids, minter));
  RedisStore& s = *store;
  std::optional<core::Result<void>> loaded;
  asio::co_spawn(s.ctx_, s.load_all(), [&loaded](std::exception_ptr e, core::Result<void> r) {
    if (e) std::rethrow_exception(e);
    loaded.emplace(std::move(r));
  });
  while (!loaded && s.ctx_.run_one() > 0) {
  }
  if (!loaded) return fail(ErrorCode::internal, "loading the rooms from Redis did not finish");
  if (!*loaded) return std::unexpected(loaded->error());
  s.healthy_ = true;

  s.subscriber_ = std::make_unique<RedisSubscriber>(
      s.ctx_.get_executor(), s.options_,
      std::vector<std::string>{s.keys_.changes_channel(), s.keys_.seen_channel()},
      [&s](std::string_view channel, std::string_view message) { s.on_message(channel, message); },
      [&s]() {
        // Changes published while the subscription was down are read now.
        std::vector<std::shared_ptr<Entry>> entries;
        {
          std::shared_lock lock(s.rooms_mu_);
          for (const auto& [name, entry] : s.rooms_) entries.push_back(entry);
        }
        for (const auto& e : entries) s.schedule_sync(e);
      });
  s.subscriber_->start();
  asio::co_spawn(s.ctx_, s.refresh_loop(), asio::detached);
  s.thread_ = std::jthread([&s] {
    auto work = asio::make_work_guard(s.ctx_);
    s.ctx_.run();
  });
  return store;
}

RedisStore::~RedisStore() { stop(); }

void RedisStore::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) {
    auto closed = asio::co_spawn(ctx_, release_and_close(), asio::use_future);
    closed.wait_for(std::chrono::seconds(2));
    ctx_.stop();
    thread_.join();
  }
}

// A graceful stop hands the rooms this node drives to the others at once.
asio::awaitable<void> RedisStore::release_and_close() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  const auto now = SteadyClock::now();
  for (const auto& e : entries) {
    auto unlock_op = unlock(*e);
    co_await std::move(unlock_op);
    if (e->lease_until <= now) continue;
    e->lease_until = {};
    std::vector<std::string> keys{keys_.driver(e->name)};
    std::vector<std::string> args{node_};
    auto release_op = run_script(*redis_, release_script(), std::move(keys), std::move(args));
    co_await std::move(release_op);
  }
  if (subscriber_) subscriber_->stop();
  redis_->close();
}

bool RedisStore::ready() const { return healthy_.load(); }

void RedisStore::render_metrics(std::string& out) const {
  auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
    out.append("# HELP ")
        .append(name)
        .append(" ")
        .append(help)
        .append("\n# TYPE ")
        .append(name)
        .append(" counter\n")
        .append(name)
        .append(" ")
        .append(std::to_string(value))
        .append("\n");
  };
  counter("waitroom_redis_commands_total", "Commands this node sent to Redis (scripts count once).",
          commands_.load());
  counter("waitroom_redis_commits_total",
          "Changes (batches of requests) this node appended to room logs.", commits_.load());
  counter("waitroom_redis_records_total", "Records those changes appended.", records_.load());
  counter("waitroom_redis_lock_waits_total",
          "Times a change found another node holding the room's write lock.", lock_waits_.load());
  out.append(
         "# HELP waitroom_redis_stopped_rooms Rooms stopped at a record of their log in Redis "
         "that cannot be read (damaged, or written by a newer version).\n"
         "# TYPE waitroom_redis_stopped_rooms gauge\nwaitroom_redis_stopped_rooms ")
      .append(std::to_string(stopped_rooms()))
      .append("\n");
}

// ---- the copies ---------------------------------------------------------------------------

std::shared_ptr<RedisStore::Entry> RedisStore::find(const std::string& room) const {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : it->second;
}

std::shared_ptr<RedisStore::Entry> RedisStore::find_or_add(const std::string& room) {
  if (auto e = find(room)) return e;
  std::unique_lock lock(rooms_mu_);
  auto [it, added] = rooms_.try_emplace(room, nullptr);
  if (added) {
    it->second = std::make_shared<Entry>(room);
    it->second->change_id = static_cast<std::uint64_t>(clock_.now_ms());
  }
  return it->second;
}

core::Result<void> RedisStore::apply(Entry& e, const engine::LogRecord& record) {
  auto r = apply_to(e.name, e.room, e.last_epoch, record, clock_.now_s());
  if (!r) return r;
  ++e.applied;
  return {};
}

void RedisStore::note_change(Entry& e) {
  ++e.change_id;
  if (changes_) changes_->room_changed(e.name);
}

RoomView RedisStore::view_of(core::Room& room) { return engine::room_view(room, clock_.now_ms()); }

// ---- requests' changes ----------------------------------------------------------------------

// Runs a room operation as a job of the room's writer and returns its answer. A failed operation
// leaves nothing in the batch.
template <class T>
Store::Op<T> RedisStore::change(std::string room,
                                std::function<core::Result<T>(Entry&, engine::Effects&)> fn,
                                bool fenced) {
  std::optional<core::Result<T>> result;
  auto run = [&result, &fn](Entry& e, engine::Effects& out) {
    engine::Effects mine(out.wants_events);
    result.emplace(fn(e, mine));
    if (*result) out.append(std::move(mine));
  };
  auto op = run_job(std::move(room), std::move(run), fenced, false);
  if (auto done = co_await std::move(op); !done) co_return std::unexpected(done.error());
  if (!result) co_return core::Result<T>{};
  co_return std::move(*result);
}

// ---- tickets -----------------------------------------------------------------------------------

core::Result<RedisStore::Found> RedisStore::find_ticket(const std::string& room,
                                                        const std::string& ticket,
                                                        bool& catch_up) const {
  auto ref = ids_.decode(room, ticket);
  if (!ref) return fail(ErrorCode::not_found, "no such ticket in room \"" + room + "\"");
  auto e = find(room);
  if (!e) {
    catch_up = true;
    return std::unexpected(unknown_room(room));
  }
  std::lock_guard lock(e->mu);
  if (e->damage) return std::unexpected(*e->damage);
  if (!e->room || ref->epoch > e->room->epoch() || !e->room->has_ticket(ref->position)) {
    // A genuine id this copy does not know yet: made on another node a moment ago.
    catch_up = true;
    if (!e->room) return std::unexpected(unknown_room(room));
    if (ref->epoch == e->room->epoch())
      return fail(ErrorCode::not_found, "no such ticket in room \"" + room + "\"");
  }
  if (ref->epoch != e->room->epoch())
    return fail(ErrorCode::gone, "this ticket belongs to a line that was reset; join again");
  return Found{e, ref->position};
}

Store::Op<RedisStore::Found> RedisStore::find_ticket_fresh(std::string room, std::string ticket) {
  bool catch_up = false;
  auto found = find_ticket(room, ticket, catch_up);
  if (found || !catch_up) co_return found;
  auto sync_op = sync(room);
  if (auto synced = co_await std::move(sync_op); !synced) co_return std::unexpected(synced.error());
  catch_up = false;
  co_return find_ticket(room, ticket, catch_up);
}

Store::Op<EnqueueResult> RedisStore::enqueue(std::string room, std::optional<std::string> existing,
                                             bool tracks_presence) {
  if (existing) {
    bool catch_up = false;
    if (auto found = find_ticket(room, *existing, catch_up)) {
      Entry& e = *found->entry;
      std::lock_guard lock(e.mu);
      if (e.room)
        if (auto live = engine::existing_ticket(*e.room, context(e), found->position, *existing))
          co_return std::move(*live);
    }
  }
  std::function<core::Result<EnqueueResult>(Entry&, engine::Effects&)> fn =
      [this, room, existing, tracks_presence](Entry& e,
                                              engine::Effects& fx) -> core::Result<EnqueueResult> {
    if (!e.room) return std::unexpected(unknown_room(room));
    core::Room& rm = *e.room;
    if (existing) {  // the visitor's ticket may be one this copy had not seen when asked above
      if (auto ref = ids_.decode(room, *existing); ref && ref->epoch == rm.epoch())
        if (auto live = engine::existing_ticket(rm, context(e), ref->position, *existing))
          return std::move(*live);
    }
    return engine::enqueue(rm, context(e), tracks_presence, fx);
  };
  auto change_op = change<EnqueueResult>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<TicketView> RedisStore::ticket(std::string room, std::string ticket) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  std::lock_guard lock(found->entry->mu);
  if (!found->entry->room) co_return std::unexpected(unknown_room(room));
  Entry& e = *found->entry;
  engine::mark_seen(*e.room, context(e), found->position, clock_.now_s());
  co_return engine::ticket_view(*e.room, context(e), found->position, std::move(ticket));
}

Store::Op<WatchedTicket> RedisStore::watch_ticket(std::string room, std::string ticket) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  Entry& e = *found->entry;
  std::lock_guard lock(e.mu);
  if (!e.room) co_return std::unexpected(unknown_room(room));
  engine::mark_seen(*e.room, context(e), found->position, clock_.now_s());
  co_return WatchedTicket{
      engine::ticket_view(*e.room, context(e), found->position, std::move(ticket)), e.room->epoch(),
      e.change_id};
}

Store::Op<TicketStates> RedisStore::ticket_states(std::string room,
                                                  std::span<const std::uint64_t> positions) {
  auto e = find(room);
  if (!e) co_return std::unexpected(unknown_room(room));
  std::lock_guard lock(e->mu);
  if (e->damage) co_return std::unexpected(*e->damage);
  if (!e->room) co_return std::unexpected(unknown_room(room));
  co_return engine::ticket_states(*e->room, context(*e), positions, e->change_id);
}

// ---- passes
// --------------------------------------------------------------------------------------

Store::Op<PassView> RedisStore::issue_pass(std::string room, std::string ticket,
                                           PassOptions options) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  Entry& e = *found->entry;
  auto plan_here = [&]() -> core::Result<engine::PassPlan> {
    std::lock_guard lock(e.mu);
    if (!e.room) return std::unexpected(unknown_room(room));
    auto plan = engine::plan_pass(*e.room, context(e), found->position, ticket, options);
    // A pass in a copy with nothing in flight is in the log: hand it out again.
    if (plan && plan->issued && e.uncommitted) plan->issued.reset();
    return plan;
  };
  auto plan = plan_here();
  // "Not yet" from this copy may be a moment old (another node admitted the ticket): asked of the
  // log once before it is the answer.
  if (!plan && plan.error().code == ErrorCode::conflict) {
    auto sync_op = sync(room);
    if (auto synced = co_await std::move(sync_op); !synced)
      co_return std::unexpected(synced.error());
    plan = plan_here();
  }
  if (!plan) co_return std::unexpected(plan.error());
  if (plan->issued) co_return std::move(*plan->issued);
  // Signed on the request's thread: the store's thread only decides and appends.
  auto pass = minter_.mint(plan->request);
  if (!pass) co_return std::unexpected(pass.error());
  std::function<core::Result<PassView>(Entry&, engine::Effects&)> fn =
      [this, request = std::move(plan->request), signed_pass = std::move(*pass)](
          Entry& en, engine::Effects& fx) -> core::Result<PassView> {
    if (!en.room)
      return fail(ErrorCode::gone, "the line was reset while the pass was being issued");
    return engine::record_pass(*en.room, context(en), request, signed_pass, fx);
  };
  auto change_op = change<PassView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<PassCheck> RedisStore::check_pass(std::string room, std::string ticket,
                                            std::string pass) {
  for (int attempt = 0;; ++attempt) {
    auto e = find(room);
    const auto ref = token::TicketIdCodec::decode_untrusted(ticket);
    if (!ref)
      co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
    bool unknown = false;
    if (e) {
      std::lock_guard lock(e->mu);
      if (e->damage) co_return std::unexpected(*e->damage);
      if (e->room && ref->epoch == e->room->epoch()) {
        core::Room& rm = *e->room;
        const std::int64_t now = clock_.now_s();
        const std::uint64_t position = ref->position;
        const bool known = rm.has_ticket(position) && rm.session(position, now) != nullptr;
        if (known || attempt > 0) {
          auto checked = engine::check_session_pass(rm, position, ticket, pass, now);
          if (checked) engine::mark_seen(rm, context(*e), position, now);
          if (checked || checked.error().code != ErrorCode::unauthorized || known)
            co_return checked;
        }
        unknown = !known;
      } else {
        unknown = !e->room || ref->epoch > e->room->epoch();
        if (!unknown)
          co_return fail(ErrorCode::gone,
                         "this ticket belongs to a line that was reset; join again");
      }
    } else {
      unknown = true;
    }
    // A pass issued on another node a moment ago: read the log once before refusing it, but only
    // for a genuine ticket id, so forged ones never reach Redis.
    if (!unknown || attempt > 0 || !ids_.decode(room, ticket)) break;
    auto sync_op = sync(room);
    if (auto synced = co_await std::move(sync_op); !synced)
      co_return std::unexpected(synced.error());
  }
  if (!find(room)) co_return std::unexpected(unknown_room(room));
  co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
}

Store::Op<PassView> RedisStore::renew_pass(std::string room, std::string ticket,
                                           std::string binding) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  core::Result<engine::PassPlan> plan;
  {
    Entry& e = *found->entry;
    std::lock_guard lock(e.mu);
    if (!e.room) co_return std::unexpected(unknown_room(room));
    plan = engine::plan_renewal(*e.room, context(e), found->position, ticket, std::move(binding));
    if (plan && plan->issued && e.uncommitted) plan->issued.reset();
  }
  if (!plan) co_return std::unexpected(plan.error());
  if (plan->issued) co_return std::move(*plan->issued);  // renewed already (or not due)
  auto pass = minter_.mint(plan->request);
  if (!pass) co_return std::unexpected(pass.error());
  std::function<core::Result<PassView>(Entry&, engine::Effects&)> fn =
      [this, request = std::move(plan->request), signed_pass = std::move(*pass)](
          Entry& en, engine::Effects& fx) -> core::Result<PassView> {
    if (!en.room) return fail(ErrorCode::gone, "this ticket has no active session to renew");
    return engine::record_renewal(*en.room, context(en), request, signed_pass, fx);
  };
  auto change_op = change<PassView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

// ---- rooms
// ---------------------------------------------------------------------------------------

// A room this node has not heard of may have been created on another a moment ago.
Store::Op<std::shared_ptr<RedisStore::Entry>> RedisStore::find_room(std::string room) {
  auto e = find(room);
  bool known = false;
  if (e) {
    std::lock_guard lock(e->mu);
    if (e->damage) co_return std::unexpected(*e->damage);
    known = e->room.has_value();
  }
  if (known) co_return e;
  if (!core::is_valid_room_name(room)) co_return std::unexpected(unknown_room(room));
  auto sync_op = sync(room);
  if (auto synced = co_await std::move(sync_op); !synced) co_return std::unexpected(synced.error());
  e = find(room);
  if (!e) co_return std::unexpected(unknown_room(room));
  {
    std::lock_guard lock(e->mu);
    if (e->damage) co_return std::unexpected(*e->damage);
  }
  co_return e;
}

Store::Op<RoomView> RedisStore::room(std::string room) {
  auto room_op = find_room(room);
  auto e = co_await std::move(room_op);
  if (!e) co_return std::unexpected(e.error());
  std::lock_guard lock((*e)->mu);
  if (!(*e)->room) co_return std::unexpected(unknown_room(room));
  co_return view_of(*(*e)->room);
}

Store::Op<core::PassCookie> RedisStore::pass_cookie(std::string room) {
  auto room_op = find_room(room);
  auto e = co_await std::move(room_op);
  if (!e) co_return std::unexpected(e.error());
  std::lock_guard lock((*e)->mu);
  if (!(*e)->room) co_return std::unexpected(unknown_room(room));
  co_return (*e)->room->settings().pass_cookie;
}

Store::Op<std::vector<RoomView>> RedisStore::rooms() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  std::vector<RoomView> views;
  for (auto& e : entries) {
    std::lock_guard lock(e->mu);
    // A stopped room's copy lacks records from the bad one on: its figures would mislead. It is
    // counted in waitroom_redis_stopped_rooms and logged instead.
    if (e->room && !e->damage) views.push_back(view_of(*e->room));
  }
  co_return views;
}

Store::Op<void> RedisStore::register_room(std::string room) {
  auto op = asio::co_spawn(ctx_, register_on_thread(std::move(room)), asio::use_awaitable);
  co_return co_await std::move(op);
}

Store::Op<void> RedisStore::register_on_thread(std::string room) {
  std::vector<std::string> sadd{"SADD", keys_.rooms(), std::move(room)};
  auto sadd_op = redis_->command(std::move(sadd));
  auto reply = co_await std::move(sadd_op);
  commands_.fetch_add(1);
  if (!reply) co_return std::unexpected(unavailable(reply.error().detail));
  if (reply->is_error()) co_return std::unexpected(unavailable(reply->str));
  co_return core::Result<void>{};
}

Store::Op<std::pair<RoomView, bool>> RedisStore::put_room(std::string room, SettingsUpdate update) {
  // Listed before its first record, so a node that starts now finds the room's log.
  auto register_op = register_room(room);
  if (auto listed = co_await std::move(register_op); !listed)
    co_return std::unexpected(listed.error());
  std::function<core::Result<std::pair<RoomView, bool>>(Entry&, engine::Effects&)> fn =
      [this, room, update = std::move(update)](
          Entry& e, engine::Effects& fx) -> core::Result<std::pair<RoomView, bool>> {
    std::optional<core::RoomSettings> current;
    if (e.room) current = e.room->settings();
    auto settings = engine::put_settings(room, current, update, context(e), fx);
    if (!settings) return std::unexpected(settings.error());
    const bool created = !e.room;
    if (e.room)
      e.room->set_settings(std::move(*settings));
    else
      e.room.emplace(engine::create_room(room, std::move(*settings), e.last_epoch));
    return std::pair{view_of(*e.room), created};
  };
  auto change_op = change<std::pair<RoomView, bool>>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<void> RedisStore::delete_room(std::string room) {
  std::function<core::Result<void>(Entry&, engine::Effects&)> fn =
      [this, room](Entry& e, engine::Effects& fx) -> core::Result<void> {
    if (!e.room) return std::unexpected(unknown_room(room));
    engine::delete_room(room, context(e), fx);
    e.room.reset();
    return {};
  };
  auto change_op = change<void>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<std::uint64_t> RedisStore::advance(std::string room, Advance advance) {
  std::function<core::Result<std::uint64_t>(Entry&, engine::Effects&)> fn =
      [this, room, advance](Entry& e, engine::Effects& fx) -> core::Result<std::uint64_t> {
    if (!e.room) return std::unexpected(unknown_room(room));
    return engine::advance(*e.room, context(e), advance, fx);
  };
  auto change_op = change<std::uint64_t>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<RoomView> RedisStore::set_paused(std::string room, bool paused) {
  std::function<core::Result<RoomView>(Entry&, engine::Effects&)> fn =
      [this, room, paused](Entry& e, engine::Effects& fx) -> core::Result<RoomView> {
    if (!e.room) return std::unexpected(unknown_room(room));
    return engine::set_paused(*e.room, context(e), paused, fx);
  };
  auto change_op = change<RoomView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<RoomView> RedisStore::reset(std::string room) {
  std::function<core::Result<RoomView>(Entry&, engine::Effects&)> fn =
      [this, room](Entry& e, engine::Effects& fx) -> core::Result<RoomView> {
    if (!e.room) return std::unexpected(unknown_room(room));
    return engine::reset(*e.room, context(e), e.last_epoch, fx);
  };
  auto change_op = change<RoomView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<TicketView> RedisStore::end_session(std::string room, std::string ticket,
                                              core::TicketStatus status) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  const std::uint64_t position = found->position;
  std::function<core::Result<TicketView>(Entry&, engine::Effects&)> fn =
      [this, room, ticket, position, status](Entry& e,
                                             engine::Effects& fx) -> core::Result<TicketView> {
    if (!e.room) return std::unexpected(unknown_room(room));
    return engine::end_session(*e.room, context(e), position, ticket, status, fx);
  };
  auto change_op = change<TicketView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<std::vector<std::string>> RedisStore::expired_tickets(std::string room) {
  auto room_op = find_room(room);
  auto e = co_await std::move(room_op);
  if (!e) co_return std::unexpected(e.error());
  std::lock_guard lock((*e)->mu);
  if (!(*e)->room) co_return std::unexpected(unknown_room(room));
  co_return engine::expired_ticket_ids(*(*e)->room, ids_, clock_.now_s());
}

Store::Op<AdmissionsPage> RedisStore::admissions(std::string room, std::uint64_t from,
                                                 std::uint64_t limit) {
  auto room_op = find_room(room);
  auto e = co_await std::move(room_op);
  if (!e) co_return std::unexpected(e.error());
  std::lock_guard lock((*e)->mu);
  if (!(*e)->room) co_return std::unexpected(unknown_room(room));
  co_return engine::admissions_page(*(*e)->room, ids_, from, limit);
}

}  // namespace waitroom::store::redis
