// The Redis store's commit pipeline: each room's writer runs the jobs of requests on an
// up-to-date copy under the room's write lock in Redis, and commits their records with one Lua
// script per batch (redis_scripts.hpp); events and pushes leave only once Redis holds them.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "engine/apply_record.hpp"
#include "engine/event_records.hpp"
#include "ops/log.hpp"
#include "store/redis/redis_record.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using namespace internal;

// ---- the writer: every change of a room's copy, in log order --------------------------------

// Any thread: runs `run` as a job of the room's writer (on the store's thread) and resumes the
// caller on its own executor once the job's batch is committed (or failed). `run` may be empty:
// the job only brings the copy up to the log.
RoomStorage::Op<void> RedisStorage::run_job(std::string room,
                                            std::function<void(Entry&, engine::Effects&)> run,
                                            bool fenced, bool read_only, bool compacts) {
  Job job;
  job.fenced = fenced;
  job.compacts = compacts;
  job.read_only = read_only;
  job.run = std::move(run);
  // The caller waits on its own thread until the writer has finished the job; the writer hands
  // the resumption back to the caller's executor.
  auto submitted = asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this, &job, &room](auto handler) {
        auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
        job.done = [waiting] {
          auto ex = asio::get_associated_executor(*waiting);
          asio::post(ex, std::move(*waiting));
        };
        submit(room, &job);
      },
      asio::use_awaitable);
  co_await std::move(submitted);
  if (job.failure) co_return std::unexpected(*job.failure);
  co_return core::Result<void>{};
}

// Any thread: hands the job to the room's writer, started on the store's thread when it is not
// running; a running writer takes it at its next look, so a burst costs one wake-up, not one each.
void RedisStorage::submit(const std::string& room, Job* job) {
  for (;;) {
    std::shared_ptr<Entry> e = find_or_add(room);
    std::lock_guard lock(e->inbox_mu);
    if (e->dropped) continue;  // forgotten a moment ago: a fresh entry takes the job
    e->inbox.push_back(job);
    if (!e->writing) {
      e->writing = true;
      asio::post(ctx_, [this, e] { asio::co_spawn(ctx_, run_writer(e), asio::detached); });
    }
    return;
  }
}

bool RedisStorage::take_jobs(Entry& e) {
  std::lock_guard lock(e.inbox_mu);
  for (Job* job : e.inbox) e.jobs.push_back(job);
  e.inbox.clear();
  return !e.jobs.empty();
}

RoomStorage::Op<void> RedisStorage::sync(std::string room) {
  auto op = run_job(std::move(room), nullptr, false, true);
  co_return co_await std::move(op);
}

void RedisStorage::schedule_sync(const std::shared_ptr<Entry>& e) {
  if (e->sync_queued) return;
  e->sync_queued = true;
  asio::co_spawn(ctx_, run_job(e->name, nullptr, false, true),
                 [e](std::exception_ptr, core::Result<void>) { e->sync_queued = false; });
}

asio::awaitable<void> RedisStorage::run_writer(std::shared_ptr<Entry> e) {
  asio::steady_timer landed(ctx_, asio::steady_timer::time_point::max());
  e->landed = &landed;
  for (;;) {
    if (!take_jobs(*e)) {
      auto drained_op = wait_for_commits(*e, 0);
      co_await std::move(drained_op);
      if (take_jobs(*e)) continue;
      if (e->lock_until > SteadyClock::now()) {
        // The kept lock waits a moment for the next request, then goes to whoever needs it.
        const auto until = SteadyClock::now() + kLockKeepIdle;
        while (!take_jobs(*e) && SteadyClock::now() < until) {
          asio::steady_timer idle(ctx_, kGatherStep);
          co_await idle.async_wait(asio::use_awaitable);
        }
        if (!e->jobs.empty()) continue;
      }
      if (!e->lock_token.empty()) {
        auto unlock_op = unlock(*e);
        co_await std::move(unlock_op);
        continue;
      }
      // Stops, unless a job came in meanwhile. A name that never was a room (a mistyped or
      // made-up one) is forgotten.
      bool empty = false;
      {
        std::lock_guard lock(e->mu);
        empty = !e->room && e->applied == 0 && !e->damage;
      }
      std::lock_guard lock(e->inbox_mu);
      if (!e->inbox.empty()) continue;
      e->writing = false;
      e->landed = nullptr;
      if (empty && !e->sync_queued) {
        std::unique_lock rooms_lock(rooms_mu_);
        auto it = rooms_.find(e->name);
        if (it != rooms_.end() && it->second == e) {
          rooms_.erase(it);
          e->dropped = true;
        }
      }
      co_return;
    }
    // A change waits for the requests right behind it while they keep coming (at most
    // kGatherWindow or kGatherEnough of them), or while the commits before it are in flight, so
    // a burst shares round trips; a longer burst becomes several changes whose commits follow
    // each other (write_batch).
    // The driver's step and a compaction go alone (below), so nothing is gathered for them.
    auto alone = [](const Job* j) { return j->fenced || j->compacts; };
    if (!alone(e->jobs.front()) &&
        std::any_of(e->jobs.begin(), e->jobs.end(), [](Job* j) { return !j->read_only; })) {
      auto room_op = wait_for_room_to_commit(*e, true);
      co_await std::move(room_op);
      take_jobs(*e);
      const auto until = SteadyClock::now() + kGatherWindow;
      for (std::size_t seen = 0;
           e->jobs.size() > seen && e->jobs.size() < kGatherEnough && SteadyClock::now() < until;) {
        seen = e->jobs.size();
        asio::steady_timer gather(ctx_, kGatherStep);
        co_await gather.async_wait(asio::use_awaitable);
        take_jobs(*e);
      }
    }
    // The driver's step goes alone: when this node has lost the room's lease, its commit is
    // refused, and the requests that came in beside it must not be refused with it. So does a
    // compaction, which writes no records of its own.
    std::vector<Job*> batch;
    while (!e->jobs.empty() && batch.size() < kMaxBatch) {
      if (!batch.empty() && (alone(batch.front()) || alone(e->jobs.front()))) break;
      batch.push_back(e->jobs.front());
      e->jobs.pop_front();
    }
    auto batch_op = write_batch(e, std::move(batch));
    co_await std::move(batch_op);
  }
}

// Until at most `allowed` of the room's commits are in flight.
asio::awaitable<void> RedisStorage::wait_for_commits(Entry& e, int allowed) {
  while (e.in_flight > allowed) {
    e.landed->expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await e.landed->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// A change under the kept lock is decided on the copy with the changes still in flight and
// follows them (kMaxInFlight at most); anything else waits until they have all landed.
asio::awaitable<void> RedisStorage::wait_for_room_to_commit(Entry& e, bool writes) {
  for (;;) {
    const bool follows =
        writes && !e.diverged && !e.fenced_in_flight && e.lock_until > SteadyClock::now();
    if (e.in_flight <= (follows ? kMaxInFlight - 1 : 0)) co_return;
    auto landed_op = wait_for_commits(e, e.in_flight - 1);
    co_await std::move(landed_op);
  }
}

asio::awaitable<void> RedisStorage::unlock(Entry& e) {
  if (e.lock_token.empty()) co_return;
  e.lock_until = {};
  std::vector<std::string> keys{keys_.write_lock(e.name)};
  std::vector<std::string> args{std::exchange(e.lock_token, {})};
  auto unlock_op = run_script(*redis_, unlock_script(), std::move(keys), std::move(args));
  co_await std::move(unlock_op);  // a failure leaves the lock to expire
  commands_.fetch_add(1);
}

void RedisStorage::finish(std::vector<Job*>& batch, const std::optional<core::Error>& failure) {
  for (auto* job : batch) {
    if (failure) job->failure = failure;
    job->done();
  }
}

// The room's log from index `from` (from its snapshot when compaction dropped `from`), at most
// `count` records (0: all): {length, first, records...}.
asio::awaitable<core::Result<Reply>> RedisStorage::read_log(const std::string& room,
                                                            std::uint64_t from,
                                                            std::uint64_t count) {
  std::vector<std::string> keys{keys_.log(room), keys_.log_base(room)};
  std::vector<std::string> args{std::to_string(from), std::to_string(count)};
  auto read_op = run_script(*redis_, read_script(), std::move(keys), std::move(args));
  auto reply = co_await std::move(read_op);
  commands_.fetch_add(1);
  if (!reply) co_return std::unexpected(reply.error());
  if (reply->type != Reply::Type::array || reply->elements.size() < 2)
    co_return fail(ErrorCode::internal, "the read script answered " + reply->str);
  co_return std::move(*reply);
}

asio::awaitable<core::Result<void>> RedisStorage::reload(Entry& e) {
  std::optional<core::Room> room;
  std::uint32_t last_epoch = 0;
  std::uint64_t last_event_seq = 0;
  std::uint64_t applied = 0;
  std::uint64_t base = 0;
  std::uint64_t bytes = 0;
  std::uint64_t snapshot = 0;
  std::optional<std::string> unreadable;  // what is wrong with record `applied`, if anything
  for (bool first_chunk = true; !unreadable; first_chunk = false) {
    auto read_op = read_log(e.name, applied, kLoadChunk);
    auto reply = co_await std::move(read_op);
    if (!reply) co_return std::unexpected(reply.error());
    const auto first = static_cast<std::uint64_t>(reply->elements[1].integer);
    if (first != applied) {
      if (!first_chunk) {  // compacted between two chunks: read it again, from its snapshot
        room.reset();
        last_epoch = 0;
        last_event_seq = 0;
        bytes = snapshot = 0;
      }
      applied = base = first;
    }
    for (std::size_t i = 2; i < reply->elements.size(); ++i) {
      const std::string& raw = reply->elements[i].str;
      auto record = read_record(raw);
      if (!record) {  // the room stops here (redis_stopped_room.cpp): nothing after it is read
        unreadable = record.error().detail;
        break;
      }
      if (auto a = engine::apply_record(e.name, room, last_epoch, *record, clock_.now_s()); !a)
        co_return a;
      feed_record(e.name, last_event_seq, *record);  // the feed skips events it has already
      if (applied == base && std::holds_alternative<engine::RoomSnapshotRecord>(*record))
        snapshot = raw.size();
      ++applied;
      bytes += raw.size();
    }
    if (reply->elements.size() - 2 < static_cast<std::size_t>(kLoadChunk)) break;
  }
  // Presence is not logged: every visitor gets a fresh idle window from now, as after a restart.
  if (room) room->refresh_presence(clock_.now_s());
  std::lock_guard lock(e.mu);
  e.room = std::move(room);
  e.last_epoch = last_epoch;
  e.last_event_seq = last_event_seq;
  e.applied = applied;
  e.base = base;
  e.log_bytes = bytes;
  e.snapshot_bytes = snapshot;
  e.uncommitted = false;
  replayed_records_ += applied - base;
  if (unreadable)
    stop_room(e, applied, *unreadable);
  else
    resume_room(e);
  note_change(e);
  co_return core::Result<void>{};
}

// A record that cannot be read stops the room there (redis_stopped_room.cpp); one that does not
// apply makes the copy diverge: it is read again from the log before its next change. A stopped
// room whose log now reads to its end is served again.
void RedisStorage::apply_missing(Entry& e, const std::vector<Reply>& missing, std::uint64_t first) {
  const bool from_snapshot = !missing.empty() && first > e.applied;
  if (from_snapshot) {
    // Compacted past this copy: the snapshot at `first` stands for every record before it.
    e.applied = e.base = first;
    e.log_bytes = 0;
    e.snapshot_bytes = missing.front().str.size();
  }
  for (const Reply& r : missing) {
    e.log_bytes += r.str.size();
    auto record = read_record(r.str);
    if (!record) {
      stop_room(e, e.applied, record.error().detail);
      return;
    }
    if (auto a = apply(e, *record); !a) {
      ops::log_error("a record of the room's log does not apply",
                     {{"room", e.name}, {"error", a.error().detail}});
      e.diverged = true;
      return;
    }
  }
  // A snapshot keeps no presence (who is still asking): as after a reload, every visitor gets a
  // fresh idle window from now, not none (which would count everyone waiting as gone).
  if (from_snapshot && e.room) e.room->refresh_presence(clock_.now_s());
  resume_room(e);
}

// Brings the copy up to the log: under the room's write lock when something will be written, so
// nothing is appended between what this node reads and what it writes.
asio::awaitable<core::Result<RedisStorage::Tail>> RedisStorage::read_tail(Entry& e, bool writes) {
  if (writes && e.lock_until > SteadyClock::now()) {
    // The lock kept since this node's last commit: only this node appended since.
    co_return Tail{static_cast<std::int64_t>(e.sent), {}};
  }
  if (writes) {
    auto lock_op = take_write_lock(e);
    co_return co_await std::move(lock_op);
  }
  auto read_op = read_log(e.name, e.applied, 0);
  auto reply = co_await std::move(read_op);
  healthy_ = reply || reply.error().code != ErrorCode::unavailable;
  if (!reply) co_return std::unexpected(unavailable(reply.error().detail));
  Tail tail{reply->elements[0].integer, {}, static_cast<std::uint64_t>(reply->elements[1].integer)};
  tail.missing.assign(std::make_move_iterator(reply->elements.begin() + 2),
                      std::make_move_iterator(reply->elements.end()));
  co_return tail;
}

// Takes the room's write lock (the begin script), waiting with a growing back-off while another
// node holds it, at most kLockWait; returns the log's length and the records this copy lacks.
asio::awaitable<core::Result<RedisStorage::Tail>> RedisStorage::take_write_lock(Entry& e) {
  const auto deadline = SteadyClock::now() + kLockWait;
  auto backoff = std::chrono::microseconds(200);
  const std::string token = node_ + ":" + std::to_string(++lock_tokens_);
  for (;;) {
    std::vector<std::string> keys{keys_.log(e.name), keys_.write_lock(e.name),
                                  keys_.lock_wanted(e.name), keys_.log_base(e.name)};
    std::vector<std::string> args{token, std::to_string(kLockMs), std::to_string(e.applied), node_,
                                  std::exchange(e.lock_token, {})};
    e.lock_until = {};
    const auto sent = SteadyClock::now();
    auto begin_op = run_script(*redis_, begin_script(), std::move(keys), std::move(args));
    auto reply = co_await std::move(begin_op);
    commands_.fetch_add(1);
    if (!reply || reply->type != Reply::Type::array || reply->elements.size() < 2) {
      healthy_ = false;
      co_return std::unexpected(unavailable(reply ? reply->str : reply.error().detail));
    }
    healthy_ = true;
    if (reply->elements[0].integer == 1) {
      e.lock_token = token;
      e.lock_until = lock_trusted_until(sent);
      Tail tail{reply->elements[1].integer, {}, 0};
      tail.missing.assign(std::make_move_iterator(reply->elements.begin() + 2),
                          std::make_move_iterator(reply->elements.end()));
      // The records returned end at the log's length.
      tail.first = static_cast<std::uint64_t>(tail.length) - tail.missing.size();
      co_return tail;
    }
    lock_waits_.fetch_add(1);
    e.contended_until = SteadyClock::now() + kContendedFor;
    if (SteadyClock::now() > deadline)
      co_return fail(ErrorCode::unavailable, "the room is busy; try again", kRetryAfterS);
    asio::steady_timer wait(ctx_, backoff);
    co_await wait.async_wait(asio::use_awaitable);
    backoff = std::min<std::chrono::microseconds>(backoff * 2, std::chrono::milliseconds(20));
  }
}

asio::awaitable<void> RedisStorage::write_batch(std::shared_ptr<Entry> entry,
                                                std::vector<Job*> batch) {
  Entry& e = *entry;
  const bool writes = std::any_of(batch.begin(), batch.end(), [](Job* j) { return !j->read_only; });
  const bool fenced = std::any_of(batch.begin(), batch.end(), [](Job* j) { return j->fenced; });
  const bool compacts = batch.front()->compacts;  // alone in its batch
  // The driver's step neither follows commits in flight nor is followed by any: when the lease
  // is gone its refusal drops the lock, and a commit sent behind it would fail with it. A
  // compaction snapshots the copy once every commit has landed.
  auto room_op = wait_for_room_to_commit(e, writes && !fenced && !compacts);
  co_await std::move(room_op);
  if (refuse_while_stopped(e, batch, !writes)) co_return;
  if (e.diverged) {
    auto reloaded = co_await reload(e);
    if (!reloaded) {
      healthy_ = false;
      finish(batch, unavailable(reloaded.error().detail));
      co_return;
    }
    e.diverged = false;
    if (refuse_while_stopped(e, batch, false)) co_return;
  }
  auto tail_op = read_tail(e, writes);
  auto tail = co_await std::move(tail_op);
  if (!tail) {
    finish(batch, tail.error());
    co_return;
  }
  const std::int64_t length = tail->length;
  std::vector<Reply> missing = std::move(tail->missing);
  engine::Effects out = effects();
  {
    std::lock_guard lock(e.mu);
    apply_missing(e, missing, tail->first);
    if (!missing.empty()) note_change(e);
    if (!e.diverged && !e.damage && writes) {
      for (Job* job : batch)
        if (job->run) job->run(e, out);
      // Numbered now, in the feed once committed. A refused commit leaves the copy diverged, and
      // its reload takes the room's last number from the log again.
      engine::seal_events(out, e.name, e.last_event_seq);
      if (!out.records.empty()) e.uncommitted = true;
    }
  }
  if (e.diverged || e.damage) {
    if (writes) {
      auto unlock_op = unlock(e);
      co_await std::move(unlock_op);
    }
    finish(batch, e.damage
                      ? *e.damage
                      : core::Error{ErrorCode::unavailable,
                                    "this node is reloading the room; try again", kRetryAfterS});
    co_return;
  }
  if (compacts) {
    auto compact_op = compact_room(e, length, batch);
    co_await std::move(compact_op);
    co_return;
  }
  if (!writes) {
    for (Job* job : batch)
      if (job->run) {
        std::lock_guard lock(e.mu);
        job->run(e, out);
      }
    finish(batch, std::nullopt);
    co_return;
  }
  if (fenced && out.records.empty()) {
    // A driver's step that admitted nobody and expired nothing writes nothing: Redis is not
    // asked, and the lock stays as it was (most steps of a slow line are these). A lock taken
    // for it is kept at the length it found, for the changes behind it.
    e.sent = static_cast<std::uint64_t>(length);
    if (out.changed) {
      {
        std::lock_guard lock(e.mu);
        ++e.change_id;
      }
      if (changes_) changes_->room_changed(e.name);
    }
    finish(batch, std::nullopt);
    co_return;
  }
  e.sent = static_cast<std::uint64_t>(length) + out.records.size();
  ++e.in_flight;
  e.fenced_in_flight = fenced;
  // Sent now (the spawned coroutine runs up to its first wait), answered in order.
  asio::co_spawn(ctx_,
                 commit_batch(std::move(entry), std::move(batch), std::move(out), length, fenced),
                 asio::detached);
}

asio::awaitable<void> RedisStorage::commit_batch(std::shared_ptr<Entry> entry,
                                                 std::vector<Job*> batch, engine::Effects out,
                                                 std::int64_t length, bool fenced) {
  Entry& e = *entry;
  const bool keep = e.contended_until <= SteadyClock::now();
  if (!keep) e.lock_until = {};  // let go by this commit: nothing may follow it under this lock
  std::vector<std::string> args{e.lock_token,
                                std::to_string(length),
                                fenced ? node_ : std::string(),
                                changes_channel_of(e.name),
                                e.name + " " + node_,
                                keep ? std::to_string(kLockMs) : "0"};
  args.reserve(args.size() + out.records.size());
  std::uint64_t bytes = 0;
  for (const engine::LogRecord& r : out.records) {
    args.push_back(seal_record(engine::encode_record(r)));
    bytes += args.back().size();
  }
  std::vector<std::string> commit_keys{keys_.log(e.name), keys_.write_lock(e.name),
                                       keys_.driver(e.name), keys_.lock_wanted(e.name),
                                       keys_.log_base(e.name)};
  const auto sent = SteadyClock::now();
  auto commit_op = run_script(*redis_, commit_script(), std::move(commit_keys), std::move(args),
                              options_.wait_replicas, options_.command_timeout / 2);
  auto reply = co_await std::move(commit_op);
  commands_.fetch_add(1);
  const bool committed = reply && reply->type == Reply::Type::array &&
                         reply->elements.size() >= 3 && reply->elements[0].integer == 1;
  // A refused or lost commit, or a lock let go: what follows begins anew.
  if (keep && committed && reply->elements[2].integer != 1)
    e.contended_until = SteadyClock::now() + kContendedFor;
  if (!committed || reply->elements[2].integer != 1)
    e.lock_until = {};
  else if (e.lock_until != SteadyClock::time_point{})
    e.lock_until = lock_trusted_until(sent);
  --e.in_flight;
  e.fenced_in_flight = false;  // it was the only one in flight
  if (e.landed) e.landed->cancel();
  if (!committed) {
    // The copy holds changes Redis does not: it is read again from the log before its next change.
    // Nothing of them was announced.
    if (!out.records.empty()) e.diverged = true;
    if (e.diverged && e.in_flight == 0) {
      std::lock_guard lock(e.mu);
      e.uncommitted = false;
    }
    if (!reply) healthy_ = false;
    // Reached but refused (the lock expired while this node waited, or another node wrote):
    // nothing was written, and a retry decides again on the log as it is.
    const std::string refused = !reply                       ? std::string()
                                : reply->elements.size() > 1 ? reply->elements[1].str
                                                             : reply->str;
    // Appended, but not on enough replicas in time (redis_wait_replicas): a failover could
    // still lose it, so it is not acknowledged; the copy is read again from the log.
    const bool unreplicated = reply && reply->is_error() && reply->str.starts_with("NOREPLICAS");
    if (unreplicated) e.diverged = true;
    finish(batch, !reply         ? unavailable(reply.error().detail)
                  : unreplicated ? core::Error{ErrorCode::unavailable,
                                               "Redis did not confirm the change on a replica in "
                                               "time; try again (" +
                                                   reply->str + ")",
                                               kRetryAfterS}
                                 : core::Error{ErrorCode::unavailable,
                                               "the room changed on another node meanwhile (" +
                                                   refused + "); try again",
                                               kRetryAfterS});
    if (e.diverged) {
      // Reloaded by the next change, or by this sync when none comes.
      auto self = find(e.name);
      if (self) schedule_sync(self);
    }
    co_return;
  }
  {
    std::lock_guard lock(e.mu);
    e.applied = static_cast<std::uint64_t>(reply->elements[1].integer);
    e.log_bytes += bytes;
    if (e.in_flight == 0) e.uncommitted = false;
    if (out.changed) ++e.change_id;
  }
  if (!out.records.empty()) {
    commits_.fetch_add(1);
    records_.fetch_add(out.records.size());
  }
  // Redis holds the records now: their events join the feed, in the order the commits landed.
  feed_committed(e.name, out.records);
  if (out.changed && changes_) changes_->room_changed(e.name);
  finish(batch, std::nullopt);
}

}  // namespace waitroom::store::redis
