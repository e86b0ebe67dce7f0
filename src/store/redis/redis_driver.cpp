// The admission driver on the Redis store: exactly one node drives each room, under a lease in
// Redis renewed several times within its life; the others only observe their copies.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "ops/log.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using namespace internal;

// ---- the admission driver --------------------------------------------------------------------

void RedisStorage::step_rooms(Stepper step, QuietCheck quiet) {
  if (stopping_) return;
  auto done = asio::co_spawn(ctx_, drive(std::move(step), std::move(quiet)), asio::use_future);
  done.wait_for(std::chrono::seconds(10));
}

// Every room at once: each room's step waits on its own round trips (the lease, the commit), so
// one step of many rooms takes about as long as one room's, not their sum.
asio::awaitable<void> RedisStorage::drive(Stepper step, QuietCheck quiet) {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  std::size_t pending = entries.size();
  asio::steady_timer all_stepped(ctx_, asio::steady_timer::time_point::max());
  for (const auto& e : entries)
    asio::co_spawn(ctx_, drive_room(e, step, quiet), [&pending, &all_stepped](std::exception_ptr) {
      if (--pending == 0) all_stepped.cancel();
    });
  // Every room's coroutine runs on this thread and ends before this frame does.
  while (pending > 0) {
    boost::system::error_code ec;
    co_await all_stepped.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> RedisStorage::drive_room(std::shared_ptr<Entry> e, const Stepper& step,
                                               const QuietCheck& quiet) {
  {
    std::lock_guard lock(e->mu);
    if (!e->room || e->damage) co_return;  // a stopped room is not driven (nor its lease taken)
  }
  const auto now = SteadyClock::now();
  if (now >= e->lease_renew_at) {
    std::vector<std::string> keys{keys_.driver(e->name), keys_.driver_was(e->name),
                                  keys_.write_lock(e->name)};
    std::vector<std::string> args{node_, std::to_string(kLeaseMs),
                                  std::to_string(kLockMs - kStaleLockMs)};
    auto lease_op = run_script(*redis_, lease_script(), std::move(keys), std::move(args));
    auto reply = co_await std::move(lease_op);
    commands_.fetch_add(1);
    const bool held = reply && reply->type == Reply::Type::integer && reply->integer == 1;
    if (held && e->lease_until <= now)
      ops::log_info("driving the room's admissions", {{"room", e->name}, {"node", node_}});
    // The lease counts from before the request, so this node stops before Redis lets it go.
    e->lease_until = held ? now + std::chrono::milliseconds(kLeaseMs - kLeaseMarginMs)
                          : SteadyClock::time_point{};
    e->lease_renew_at = now + (held ? kLeaseRenewEvery : kLeaseRetry);
  }
  if (now >= e->lease_until) {
    // Another node drives the room: this copy only lets sessions run out and samples the pace.
    std::lock_guard lock(e->mu);
    if (!e->room) co_return;
    engine::Effects observed;
    RoomSlot slot = slot_of(*e);
    step(slot, observed, /*drives=*/false);
    if (observed.changed) note_change(*e);
    co_return;
  }
  if (step_quietly(*e, step, quiet)) co_return;
  auto driver_step = [this, &step](Entry& en, engine::Effects& fx) {
    RoomSlot slot = slot_of(en);
    step(slot, fx, /*drives=*/true);
  };
  auto step_op = run_job(e->name, std::move(driver_step), /*fenced=*/true, /*read_only=*/false);
  co_await std::move(step_op);
}

// A step sure to write nothing (nobody waits, nothing runs out, nothing scheduled is due) is
// taken on the copy as it is, without the room's write lock: an idle room costs Redis nothing
// but its lease. A copy a moment behind (another node's enqueue on its way by pub/sub) only
// moves the next admission to the next step. False: the step needs the writer.
bool RedisStorage::step_quietly(Entry& e, const Stepper& step, const QuietCheck& quiet) {
  engine::Effects fx = effects();
  {
    std::lock_guard lock(e.mu);
    // A copy with changes of its own not yet in Redis, or to be read again, goes by the writer.
    if (!e.room || e.damage || e.diverged || e.uncommitted || e.in_flight > 0 || !quiet(*e.room))
      return false;
    RoomSlot slot = slot_of(e);
    step(slot, fx, /*drives=*/true);
    if (!fx.records.empty()) {
      // QuietCheck was wrong: what the step decided cannot be written now. The copy is read again
      // from the log, and the next step decides anew.
      ops::log_error("a quiet admission step wanted to write; reloading the room",
                     {{"room", e.name}, {"records", std::to_string(fx.records.size())}});
      e.diverged = true;
    }
  }
  if (e.diverged) {
    if (auto self = find(e.name)) schedule_sync(self);
  } else if (fx.changed) {
    note_change(e);
  }
  return true;
}

}  // namespace waitroom::store::redis
