#include "store/redis/redis_store.hpp"

#include <openssl/rand.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <future>

#include "config/room_settings_codec.hpp"
#include "ops/log.hpp"
#include "store/apply_record.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/room_events.hpp"
#include "store/room_reads.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using core::fail;
using SteadyClock = std::chrono::steady_clock;

namespace {
// A change holds the room's write lock for two round trips; a node paused longer loses it and
// its commit is refused. A busy node keeps it from one change to the next (no begin), trusting it
// for kLockMs - kLockMarginMs after sending the commit that kept it, and lets it go after
// kLockKeepIdle without a request, or soon after another node asks for it (docs/scaling.md).
constexpr std::int64_t kLockMs = 2000;
constexpr std::int64_t kLockMarginMs = 500;
constexpr auto kLockKeepIdle = std::chrono::microseconds(2000);
// A node that found the lock taken, or was asked for it, does not keep it for this long: rooms
// written on several nodes at once pass the lock round change by change (taken by begin, let go
// by commit), which costs fewer round trips than handing a kept lock over.
constexpr auto kContendedFor = std::chrono::milliseconds(200);
// How long a node waits for a room's write lock held by others before it answers 503.
constexpr auto kLockWait = std::chrono::milliseconds(3000);
// The driver's lease: renewed several times within its life, so a slow round trip does not lose
// it, and short, so another node (asking every kLeaseRetry) takes over within about 1.7 s of a
// driver's death: a pause of rate admissions of about 1% over three minutes.
constexpr std::int64_t kLeaseMs = 1500;
constexpr auto kLeaseRenewEvery = std::chrono::milliseconds(400);
constexpr auto kLeaseRetry = std::chrono::milliseconds(200);
// This node stops driving this long before Redis would let the lease go.
constexpr std::int64_t kLeaseMarginMs = 300;
// Enqueues (and other changes) arriving within this window of the first share one commit.
constexpr auto kGatherWindow = std::chrono::microseconds(1000);
constexpr auto kGatherStep = std::chrono::microseconds(200);
constexpr std::size_t kGatherEnough = 32;
// Commits of one room a node may have in flight under its kept lock: while one is answered the
// node gathers and decides the next.
constexpr int kMaxInFlight = 2;
// Records per commit: Lua's unpack() takes a few thousand arguments at most.
constexpr std::size_t kMaxBatch = 500;
constexpr std::int64_t kLoadChunk = 10000;
constexpr std::int64_t kRetryAfterS = 1;

// Until when this node trusts a lock that Redis took or kept for kLockMs on a script sent at `sent`.
SteadyClock::time_point lock_trusted_until(SteadyClock::time_point sent) {
  return sent + std::chrono::milliseconds(kLockMs - kLockMarginMs);
}

core::Error unknown_room(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no room named \"" + room + "\"", 0};
}

core::Error unavailable(std::string_view why) {
  return core::Error{ErrorCode::unavailable, "the store cannot reach Redis: " + std::string(why), kRetryAfterS};
}

bool is_live(core::TicketStatus status) {
  return status == core::TicketStatus::waiting || status == core::TicketStatus::eligible ||
         status == core::TicketStatus::admitted;
}

std::string random_node_id() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

std::optional<std::uint64_t> to_uint(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    const auto space = s.find(' ');
    parts.push_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return parts;
}

// Consecutive tickets of one batch that entered in the same second with the same flags share
// one record, as a surge's tickets do in the embedded log.
void append_enqueue(std::vector<LogRecord>& out, EnqueueRecord r) {
  if (!out.empty()) {
    if (auto* last = std::get_if<EnqueueRecord>(&out.back());
        last && last->room == r.room && last->epoch == r.epoch && last->entry_time_s == r.entry_time_s &&
        last->flags == r.flags && last->first_position + last->count == r.first_position) {
      last->count += r.count;
      return;
    }
  }
  out.emplace_back(std::move(r));
}

// Applies one record to a room's copy: a room's creation and deletion here, everything else as
// the embedded store's replay does it (store/apply_record.hpp).
core::Result<void> apply_to(const std::string& name, std::optional<core::Room>& room, std::uint32_t& last_epoch,
                            const LogRecord& record, std::int64_t now_s) {
  if (const auto* put = std::get_if<RoomPutRecord>(&record); put && !room) {
    auto settings = settings_of(*put);
    if (!settings) return std::unexpected(settings.error());
    room.emplace(name, std::move(*settings));
    room->reset(last_epoch + 1);
    last_epoch = room->epoch();
    return {};
  }
  if (std::holds_alternative<RoomDeleteRecord>(record)) {
    room.reset();
    return {};
  }
  if (const auto* floor = std::get_if<CounterFloorRecord>(&record)) {
    last_epoch = std::max(last_epoch, floor->epoch);
    if (!room) return {};
  }
  if (!room) return fail(ErrorCode::internal, "a record of room " + name + " while it does not exist");
  if (const auto* reset = std::get_if<ResetRecord>(&record)) last_epoch = reset->new_epoch;
  return apply_room_record(*room, record, now_s);
}
}  // namespace

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

core::Result<std::unique_ptr<RedisStore>> RedisStore::open(RedisOptions options, std::string key_prefix,
                                                           const core::Clock& clock,
                                                           const token::TicketIdCodec& ids,
                                                           const core::PassMinter& minter) {
  std::unique_ptr<RedisStore> store(new RedisStore(std::move(options), std::move(key_prefix), clock, ids, minter));
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
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name)
        .append(" counter\n").append(name).append(" ").append(std::to_string(value)).append("\n");
  };
  counter("waitroom_redis_commands_total", "Commands this node sent to Redis (scripts count once).", commands_.load());
  counter("waitroom_redis_commits_total", "Changes (batches of requests) this node appended to room logs.", commits_.load());
  counter("waitroom_redis_records_total", "Records those changes appended.", records_.load());
  counter("waitroom_redis_lock_waits_total", "Times a change found another node holding the room's write lock.",
          lock_waits_.load());
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

core::Result<void> RedisStore::apply(Entry& e, std::string_view payload) {
  auto record = decode_record(payload);
  if (!record) return std::unexpected(record.error());
  auto r = apply_to(e.name, e.room, e.last_epoch, *record, clock_.now_s());
  if (!r) return r;
  ++e.applied;
  return {};
}

void RedisStore::note_change(Entry& e) {
  ++e.change_id;
  if (changes_) changes_->room_changed(e.name);
}

void RedisStore::mark_seen(Entry& e, std::uint64_t position, std::int64_t now_s) {
  e.room->mark_seen(position, now_s);
  // Bounded: a flood of polls between two flushes does not grow it without end.
  if (e.seen.size() < 100000) e.seen.push_back(position);
}

RoomView RedisStore::view_of(core::Room& room) { return room_view(room, clock_.now_ms()); }

TicketView RedisStore::ticket_view(core::Room& room, std::uint64_t position, std::optional<std::string> id) {
  if (!id) id = ids_.encode(room.name(), room.epoch(), position);
  return TicketView{std::move(*id), room.name(), room.ticket(position, clock_.now_s())};
}

void RedisStore::emit(const std::string& room, std::string_view type, json::object data) {
  publish_event(events_, clock_, room, type, std::move(data));
}

// ---- the writer: every change of a room's copy, in log order --------------------------------

template <class T>
Store::Op<T> RedisStore::run_job(std::string room, std::function<core::Result<T>(Entry&, Records&)> fn,
                                 bool fenced, bool read_only) {
  std::optional<core::Result<T>> result;
  Job job;
  job.fenced = fenced;
  job.read_only = read_only;
  if (fn) job.run = [&result, &fn](Entry& e, Records& out) { result.emplace(fn(e, out)); };
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
  if (!result) co_return core::Result<T>{};
  co_return std::move(*result);
}

// Any thread: hands the job to the room's writer, started on the store's thread when it is not
// running; a running writer takes it at its next look, so a burst costs one wake-up, not one each.
void RedisStore::submit(const std::string& room, Job* job) {
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

bool RedisStore::take_jobs(Entry& e) {
  std::lock_guard lock(e.inbox_mu);
  for (Job* job : e.inbox) e.jobs.push_back(job);
  e.inbox.clear();
  return !e.jobs.empty();
}

template <class T>
Store::Op<T> RedisStore::change(std::string room, std::function<core::Result<T>(Entry&, Records&)> fn, bool fenced) {
  auto op = run_job<T>(std::move(room), std::move(fn), fenced, false);
  co_return co_await std::move(op);
}

Store::Op<void> RedisStore::sync(std::string room) {
  auto op = run_job<void>(std::move(room), nullptr, false, true);
  co_return co_await std::move(op);
}

void RedisStore::schedule_sync(const std::shared_ptr<Entry>& e) {
  if (e->sync_queued) return;
  e->sync_queued = true;
  asio::co_spawn(ctx_, run_job<void>(e->name, nullptr, false, true),
                 [e](std::exception_ptr, core::Result<void>) { e->sync_queued = false; });
}

asio::awaitable<void> RedisStore::run_writer(std::shared_ptr<Entry> e) {
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
        empty = !e->room && e->applied == 0;
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
    if (std::any_of(e->jobs.begin(), e->jobs.end(), [](Job* j) { return !j->read_only; })) {
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
    std::vector<Job*> batch;
    while (!e->jobs.empty() && batch.size() < kMaxBatch) {
      batch.push_back(e->jobs.front());
      e->jobs.pop_front();
    }
    auto batch_op = write_batch(e, std::move(batch));
    co_await std::move(batch_op);
  }
}

// Until at most `allowed` of the room's commits are in flight.
asio::awaitable<void> RedisStore::wait_for_commits(Entry& e, int allowed) {
  while (e.in_flight > allowed) {
    e.landed->expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await e.landed->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// A change under the kept lock is decided on the copy with the changes still in flight and
// follows them (kMaxInFlight at most); anything else waits until they have all landed.
asio::awaitable<void> RedisStore::wait_for_room_to_commit(Entry& e, bool writes) {
  for (;;) {
    const bool follows = writes && !e.diverged && e.lock_until > SteadyClock::now();
    if (e.in_flight <= (follows ? kMaxInFlight - 1 : 0)) co_return;
    auto landed_op = wait_for_commits(e, e.in_flight - 1);
    co_await std::move(landed_op);
  }
}

asio::awaitable<void> RedisStore::unlock(Entry& e) {
  if (e.lock_token.empty()) co_return;
  e.lock_until = {};
  std::vector<std::string> keys{keys_.write_lock(e.name)};
  std::vector<std::string> args{std::exchange(e.lock_token, {})};
  auto unlock_op = run_script(*redis_, unlock_script(), std::move(keys), std::move(args));
  co_await std::move(unlock_op);  // a failure leaves the lock to expire
  commands_.fetch_add(1);
}

void RedisStore::finish(std::vector<Job*>& batch, const std::optional<core::Error>& failure) {
  for (auto* job : batch) {
    if (failure) job->failure = failure;
    job->done();
  }
}

asio::awaitable<core::Result<void>> RedisStore::reload(Entry& e) {
  std::optional<core::Room> room;
  std::uint32_t last_epoch = 0;
  std::uint64_t applied = 0;
  const std::string log = keys_.log(e.name);
  for (;;) {
    std::vector<std::string> range{"LRANGE", log, std::to_string(applied),
                                   std::to_string(applied + kLoadChunk - 1)};
    auto range_op = redis_->command(std::move(range));
    auto reply = co_await std::move(range_op);
    commands_.fetch_add(1);
    if (!reply) co_return std::unexpected(reply.error());
    if (reply->type != Reply::Type::array) co_return fail(ErrorCode::internal, "LRANGE answered " + reply->str);
    for (const Reply& r : reply->elements) {
      auto record = decode_record(r.str);
      if (!record) co_return std::unexpected(record.error());
      if (auto a = apply_to(e.name, room, last_epoch, *record, clock_.now_s()); !a) co_return a;
      ++applied;
    }
    if (reply->elements.size() < static_cast<std::size_t>(kLoadChunk)) break;
  }
  // Presence is not logged: every visitor gets a fresh idle window from now, as after a restart.
  if (room) room->refresh_presence(clock_.now_s());
  std::lock_guard lock(e.mu);
  e.room = std::move(room);
  e.last_epoch = last_epoch;
  e.applied = applied;
  e.uncommitted = false;
  replayed_records_ += applied;
  note_change(e);
  co_return core::Result<void>{};
}

asio::awaitable<void> RedisStore::write_batch(std::shared_ptr<Entry> entry, std::vector<Job*> batch) {
  Entry& e = *entry;
  const bool writes = std::any_of(batch.begin(), batch.end(), [](Job* j) { return !j->read_only; });
  const bool fenced = std::any_of(batch.begin(), batch.end(), [](Job* j) { return j->fenced; });
  auto room_op = wait_for_room_to_commit(e, writes);
  co_await std::move(room_op);
  if (e.diverged) {
    auto reloaded = co_await reload(e);
    if (!reloaded) {
      healthy_ = false;
      finish(batch, unavailable(reloaded.error().detail));
      co_return;
    }
    e.diverged = false;
  }
  const std::string log = keys_.log(e.name);

  // Bring the copy up to the log: under the room's write lock when something will be written, so
  // nothing is appended between what this node reads and what it writes.
  std::vector<Reply> missing;
  std::int64_t length = 0;
  if (writes && e.lock_until > SteadyClock::now()) {
    // The lock kept since this node's last commit: only this node appended since.
    length = static_cast<std::int64_t>(e.sent);
  } else if (!writes) {
    std::vector<std::string> range{"LRANGE", log, std::to_string(e.applied), "-1"};
    auto range_op = redis_->command(std::move(range));
    auto reply = co_await std::move(range_op);
    commands_.fetch_add(1);
    if (!reply || reply->type != Reply::Type::array) {
      healthy_ = !!reply;
      finish(batch, unavailable(reply ? reply->str : reply.error().detail));
      co_return;
    }
    missing = std::move(reply->elements);
  } else {
    const auto deadline = SteadyClock::now() + kLockWait;
    auto backoff = std::chrono::microseconds(200);
    const std::string token = node_ + ":" + std::to_string(++lock_tokens_);
    for (;;) {
      std::vector<std::string> keys{log, keys_.write_lock(e.name), keys_.lock_wanted(e.name)};
      std::vector<std::string> args{token, std::to_string(kLockMs), std::to_string(e.applied), node_,
                                    std::exchange(e.lock_token, {})};
      e.lock_until = {};
      const auto sent = SteadyClock::now();
      auto begin_op = run_script(*redis_, begin_script(), std::move(keys), std::move(args));
      auto reply = co_await std::move(begin_op);
      commands_.fetch_add(1);
      if (!reply || reply->type != Reply::Type::array || reply->elements.size() < 2) {
        healthy_ = false;
        finish(batch, unavailable(reply ? reply->str : reply.error().detail));
        co_return;
      }
      if (reply->elements[0].integer == 1) {
        e.lock_token = token;
        e.lock_until = lock_trusted_until(sent);
        length = reply->elements[1].integer;
        missing.assign(std::make_move_iterator(reply->elements.begin() + 2),
                       std::make_move_iterator(reply->elements.end()));
        break;
      }
      lock_waits_.fetch_add(1);
      e.contended_until = SteadyClock::now() + kContendedFor;
      if (SteadyClock::now() > deadline) {
        finish(batch, core::Error{ErrorCode::unavailable, "the room is busy; try again", kRetryAfterS});
        co_return;
      }
      asio::steady_timer wait(ctx_, backoff);
      co_await wait.async_wait(asio::use_awaitable);
      backoff = std::min<std::chrono::microseconds>(backoff * 2, std::chrono::milliseconds(20));
    }
  }
  healthy_ = true;

  Records out;
  {
    std::lock_guard lock(e.mu);
    for (const Reply& r : missing) {
      if (auto a = apply(e, r.str); !a) {
        ops::log_error("a record of the room's log does not apply", {{"room", e.name}, {"error", a.error().detail}});
        e.diverged = true;
        break;
      }
    }
    if (!missing.empty()) note_change(e);
    if (!e.diverged && writes) {
      for (Job* job : batch)
        if (job->run) job->run(e, out);
      if (!out.empty()) e.uncommitted = true;
    }
  }
  if (e.diverged) {
    if (writes) {
      auto unlock_op = unlock(e);
      co_await std::move(unlock_op);
    }
    finish(batch, core::Error{ErrorCode::unavailable, "this node is reloading the room; try again", kRetryAfterS});
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
  e.sent = static_cast<std::uint64_t>(length) + out.size();
  ++e.in_flight;
  // Sent now (the spawned coroutine runs up to its first wait), answered in order.
  asio::co_spawn(ctx_, commit_batch(std::move(entry), std::move(batch), std::move(out), length, fenced),
                 asio::detached);
}

asio::awaitable<void> RedisStore::commit_batch(std::shared_ptr<Entry> entry, std::vector<Job*> batch, Records out,
                                               std::int64_t length, bool fenced) {
  Entry& e = *entry;
  const bool keep = e.contended_until <= SteadyClock::now();
  if (!keep) e.lock_until = {};  // let go by this commit: nothing may follow it under this lock
  std::vector<std::string> args{e.lock_token, std::to_string(length), fenced ? node_ : std::string(),
                                keys_.changes_channel(), e.name + " " + node_, keep ? std::to_string(kLockMs) : "0"};
  args.reserve(args.size() + out.size());
  for (const LogRecord& r : out) args.push_back(encode_record(r));
  std::vector<std::string> commit_keys{keys_.log(e.name), keys_.write_lock(e.name), keys_.driver(e.name),
                                       keys_.lock_wanted(e.name)};
  const auto sent = SteadyClock::now();
  auto commit_op = run_script(*redis_, commit_script(), std::move(commit_keys), std::move(args));
  auto reply = co_await std::move(commit_op);
  commands_.fetch_add(1);
  const bool committed = reply && reply->type == Reply::Type::array && reply->elements.size() >= 3 &&
                         reply->elements[0].integer == 1;
  // A refused or lost commit, or a lock let go: what follows begins anew.
  if (keep && committed && reply->elements[2].integer != 1) e.contended_until = SteadyClock::now() + kContendedFor;
  if (!committed || reply->elements[2].integer != 1)
    e.lock_until = {};
  else if (e.lock_until != SteadyClock::time_point{})
    e.lock_until = lock_trusted_until(sent);
  --e.in_flight;
  if (e.landed) e.landed->cancel();
  if (!committed) {
    // The copy holds changes Redis does not: it is read again from the log before its next change.
    if (!out.empty()) e.diverged = true;
    if (e.diverged && e.in_flight == 0) {
      std::lock_guard lock(e.mu);
      e.uncommitted = false;
    }
    std::string why = !reply ? reply.error().detail
                      : reply->elements.size() > 1 ? reply->elements[1].str
                                                   : reply->str;
    if (!reply) healthy_ = false;
    finish(batch, unavailable(why));
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
    if (e.in_flight == 0) e.uncommitted = false;
  }
  if (!out.empty()) {
    commits_.fetch_add(1);
    records_.fetch_add(out.size());
  }
  finish(batch, std::nullopt);
}

// ---- start-up, other nodes' changes, presence -------------------------------------------------

asio::awaitable<core::Result<void>> RedisStore::load_all() {
  std::vector<std::string> smembers{"SMEMBERS", keys_.rooms()};
  auto smembers_op = redis_->command(std::move(smembers));
  auto members = co_await std::move(smembers_op);
  commands_.fetch_add(1);
  if (!members) co_return std::unexpected(members.error());
  if (members->is_error()) co_return fail(ErrorCode::internal, "Redis: " + members->str);
  for (const Reply& name : members->elements) {
    if (!core::is_valid_room_name(name.str)) continue;
    auto e = find_or_add(name.str);
    if (auto r = co_await reload(*e); !r) co_return r;
  }
  co_return core::Result<void>{};
}

void RedisStore::on_message(std::string_view channel, std::string_view message) {
  auto parts = split(message);
  if (channel == keys_.changes_channel()) {
    // ROOM NODE LENGTH; this node's own commits are applied already.
    if (parts.size() != 3 || parts[1] == node_ || !core::is_valid_room_name(std::string(parts[0]))) return;
    auto length = to_uint(parts[2]);
    auto e = find_or_add(std::string(parts[0]));
    if (length && *length > e->applied) schedule_sync(e);
  } else if (channel == keys_.seen_channel()) {
    // NODE ROOM EPOCH AT_S POSITION...
    if (parts.size() < 5 || parts[0] == node_) return;
    auto e = find(std::string(parts[1]));
    auto epoch = to_uint(parts[2]);
    auto at = to_uint(parts[3]);
    if (!e || !epoch || !at) return;
    std::lock_guard lock(e->mu);
    if (!e->room || e->room->epoch() != *epoch) return;
    for (std::size_t i = 4; i < parts.size(); ++i)
      if (auto p = to_uint(parts[i]); p && e->room->has_ticket(*p))
        e->room->mark_seen(*p, static_cast<std::int64_t>(*at));
  }
}

asio::awaitable<void> RedisStore::flush_seen() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  const std::string at = std::to_string(clock_.now_s());
  for (const auto& e : entries) {
    std::string message;
    {
      std::lock_guard lock(e->mu);
      if (e->seen.empty() || !e->room) {
        e->seen.clear();
        continue;
      }
      std::sort(e->seen.begin(), e->seen.end());
      e->seen.erase(std::unique(e->seen.begin(), e->seen.end()), e->seen.end());
      message = node_ + " " + e->name + " " + std::to_string(e->room->epoch()) + " " + at;
      for (std::uint64_t p : e->seen) message.append(" ").append(std::to_string(p));
      e->seen.clear();
    }
    std::vector<std::string> publish{"PUBLISH", keys_.seen_channel(), std::move(message)};
    auto publish_op = redis_->command(std::move(publish));
    auto r = co_await std::move(publish_op);
    commands_.fetch_add(1);
    if (!r) co_return;
  }
}

// Every second: rooms created elsewhere, logs that grew while a message was missed (or shrank:
// Redis lost data), and this node's presence for the others.
asio::awaitable<void> RedisStore::refresh_loop() {
  asio::steady_timer timer(ctx_);
  while (!stopping_) {
    timer.expires_after(std::chrono::milliseconds(1000));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) break;
    std::vector<std::string> smembers{"SMEMBERS", keys_.rooms()};
    auto smembers_op = redis_->command(std::move(smembers));
    auto members = co_await std::move(smembers_op);
    commands_.fetch_add(1);
    healthy_ = members && members->type == Reply::Type::array;
    if (!healthy_) continue;
    std::vector<std::shared_ptr<Entry>> entries;
    std::vector<std::vector<std::string>> lengths;
    for (const Reply& name : members->elements) {
      if (!core::is_valid_room_name(name.str)) continue;
      entries.push_back(find_or_add(name.str));
      lengths.push_back({"LLEN", keys_.log(name.str)});
    }
    if (!lengths.empty()) {
      auto lengths_op = redis_->pipeline(std::move(lengths));
      auto replies = co_await std::move(lengths_op);
      commands_.fetch_add(entries.size());
      if (!replies) {
        healthy_ = false;
        continue;
      }
      for (std::size_t i = 0; i < entries.size() && i < replies->size(); ++i) {
        const auto length = static_cast<std::uint64_t>((*replies)[i].integer);
        if (length < entries[i]->applied) {
          ops::log_error("a room's log in Redis is shorter than this node's copy: Redis lost writes; reloading",
                         {{"room", entries[i]->name}});
          entries[i]->diverged = true;
        }
        if (length != entries[i]->applied) schedule_sync(entries[i]);
      }
    }
    co_await flush_seen();
  }
}

// ---- the admission driver --------------------------------------------------------------------

void RedisStore::drive_admissions() {
  if (stopping_) return;
  auto done = asio::co_spawn(ctx_, drive(), asio::use_future);
  done.wait_for(std::chrono::seconds(10));
}

asio::awaitable<void> RedisStore::drive() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  const std::int64_t now_ms = clock_.now_ms();
  std::int64_t last = last_metrics_ms_.load();
  const bool minute = events_ && now_ms - last >= 60'000 && last_metrics_ms_.compare_exchange_strong(last, now_ms);
  for (const auto& e : entries) {
    {
      std::lock_guard lock(e->mu);
      if (!e->room) continue;
    }
    const auto now = SteadyClock::now();
    if (now >= e->lease_renew_at) {
      std::vector<std::string> keys{keys_.driver(e->name)};
      std::vector<std::string> args{node_, std::to_string(kLeaseMs)};
      auto lease_op = run_script(*redis_, lease_script(), std::move(keys), std::move(args));
      auto reply = co_await std::move(lease_op);
      commands_.fetch_add(1);
      const bool held = reply && reply->type == Reply::Type::integer && reply->integer == 1;
      if (held && e->lease_until <= now) ops::log_info("driving the room's admissions", {{"room", e->name}, {"node", node_}});
      // The lease counts from before the request, so this node stops before Redis lets it go.
      e->lease_until = held ? now + std::chrono::milliseconds(kLeaseMs - kLeaseMarginMs) : SteadyClock::time_point{};
      e->lease_renew_at = now + (held ? kLeaseRenewEvery : kLeaseRetry);
    }
    if (now >= e->lease_until) {
      // Another node drives the room: this copy only lets sessions run out and samples the pace.
      std::lock_guard lock(e->mu);
      if (!e->room) continue;
      e->room->observe(now_ms);
      const std::uint64_t expired = changes_ ? e->room->counters(now_ms / 1000).expired : 0;
      if (expired != e->expired_sessions) {
        e->expired_sessions = expired;
        note_change(*e);
      }
      continue;
    }
    std::function<core::Result<bool>(Entry&, Records&)> driver_step = [this, now_ms, minute](Entry& en, Records& out) -> core::Result<bool> {
      if (!en.room) return false;
      core::Room& rm = *en.room;
      core::Admissions step = rm.tick(now_ms);
      publish_step(events_, clock_, ids_, rm, step);
      if (minute) publish_metrics(events_, clock_, rm);
      const std::uint64_t expired = changes_ ? rm.counters(now_ms / 1000).expired : 0;
      if (step.changed || !step.transitions.empty() || expired != en.expired_sessions) {
        en.expired_sessions = expired;
        note_change(en);
      }
      for (const core::EventTransition& t : step.transitions) out.emplace_back(event_record(rm.name(), rm.epoch(), t));
      if (step.changed) out.emplace_back(admit_record(rm.name(), rm.epoch(), step));
      return step.changed;
    };
    auto step_op = run_job<bool>(e->name, std::move(driver_step), /*fenced=*/true, /*read_only=*/false);
    co_await std::move(step_op);
  }
}

// ---- tickets -----------------------------------------------------------------------------------

core::Result<RedisStore::Found> RedisStore::find_ticket(const std::string& room, const std::string& ticket,
                                                        bool& catch_up) const {
  auto ref = ids_.decode(room, ticket);
  if (!ref) return fail(ErrorCode::not_found, "no such ticket in room \"" + room + "\"");
  auto e = find(room);
  if (!e) {
    catch_up = true;
    return std::unexpected(unknown_room(room));
  }
  std::lock_guard lock(e->mu);
  if (!e->room || ref->epoch > e->room->epoch() || !e->room->has_ticket(ref->position)) {
    // A genuine id this copy does not know yet: made on another node a moment ago.
    catch_up = true;
    if (!e->room) return std::unexpected(unknown_room(room));
    if (ref->epoch == e->room->epoch()) return fail(ErrorCode::not_found, "no such ticket in room \"" + room + "\"");
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
      std::lock_guard lock(found->entry->mu);
      mark_seen(*found->entry, found->position, clock_.now_s());
      TicketView view = ticket_view(*found->entry->room, found->position, *existing);
      if (is_live(view.state.status)) co_return EnqueueResult{std::move(view), false};
    }
  }
  std::function<core::Result<EnqueueResult>(Entry&, Records&)> fn =
      [this, room, existing, tracks_presence](Entry& e, Records& out) -> core::Result<EnqueueResult> {
    if (!e.room) return std::unexpected(unknown_room(room));
    core::Room& rm = *e.room;
    const std::int64_t now = clock_.now_s();
    if (existing) {  // the visitor's ticket may be one this copy had not seen when asked above
      if (auto ref = ids_.decode(room, *existing); ref && ref->epoch == rm.epoch() && rm.has_ticket(ref->position)) {
        mark_seen(e, ref->position, now);
        TicketView view = ticket_view(rm, ref->position, *existing);
        if (is_live(view.state.status)) return EnqueueResult{std::move(view), false};
      }
    }
    auto admit = rm.admits_on_arrival(now);
    if (!admit) return std::unexpected(admit.error());
    const std::uint8_t flags = static_cast<std::uint8_t>((tracks_presence ? core::kTracksPresence : 0) |
                                                         (*admit ? core::kAdmittedOnArrival : 0));
    const std::uint64_t serving = rm.serving();
    auto position = rm.enqueue(now, 1, flags);
    if (!position) return std::unexpected(position.error());
    TicketView view = ticket_view(rm, *position);
    if (events_) {
      emit(room, "ticket.issued", {{"ticket", view.ticket}, {"position", *position}, {"status", core::to_string(view.state.status)}});
      if (view.state.admitted_at_s)
        emit(room, "ticket.admitted", {{"ticket", view.ticket}, {"position", *position}, {"admitted_at", *view.state.admitted_at_s}});
    }
    append_enqueue(out, EnqueueRecord{room, rm.epoch(), *position, 1, now, flags});
    if (rm.serving() != serving) note_change(e);
    return EnqueueResult{std::move(view), true};
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
  mark_seen(*found->entry, found->position, clock_.now_s());
  co_return ticket_view(*found->entry->room, found->position, std::move(ticket));
}

Store::Op<WatchedTicket> RedisStore::watch_ticket(std::string room, std::string ticket) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  Entry& e = *found->entry;
  std::lock_guard lock(e.mu);
  if (!e.room) co_return std::unexpected(unknown_room(room));
  mark_seen(e, found->position, clock_.now_s());
  co_return WatchedTicket{ticket_view(*e.room, found->position, std::move(ticket)), e.room->epoch(), e.change_id};
}

Store::Op<TicketStates> RedisStore::ticket_states(std::string room, std::span<const std::uint64_t> positions) {
  auto e = find(room);
  if (!e) co_return std::unexpected(unknown_room(room));
  TicketStates out;
  out.states.reserve(positions.size());
  std::lock_guard lock(e->mu);
  if (!e->room) co_return std::unexpected(unknown_room(room));
  core::Room& rm = *e->room;
  const std::int64_t now = clock_.now_s();
  out.epoch = rm.epoch();
  out.change_id = e->change_id;
  for (std::uint64_t p : positions) {
    if (!rm.has_ticket(p)) {
      out.states.emplace_back();
      continue;
    }
    mark_seen(*e, p, now);
    out.states.emplace_back(rm.ticket(p, now));
  }
  co_return out;
}

// ---- passes --------------------------------------------------------------------------------------

Store::Op<PassView> RedisStore::issue_pass(std::string room, std::string ticket, PassOptions options) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  const std::uint64_t position = found->position;
  const std::int64_t now = clock_.now_s();
  auto allowed_here = [&]() -> core::Result<void> {
    Entry& e = *found->entry;
    std::lock_guard lock(e.mu);
    if (!e.room) return std::unexpected(unknown_room(room));
    return e.room->check_pass_allowed(position, now);
  };
  // "Not yet" from this copy may be a moment old (another node admitted the ticket): asked of the
  // log once before it is the answer.
  if (auto allowed = allowed_here(); !allowed && allowed.error().code == ErrorCode::conflict) {
    auto sync_op = sync(room);
    if (auto synced = co_await std::move(sync_op); !synced) co_return std::unexpected(synced.error());
  }
  core::PassRequest request;
  {
    Entry& e = *found->entry;
    std::lock_guard lock(e.mu);
    if (!e.room) co_return std::unexpected(unknown_room(room));
    core::Room& rm = *e.room;
    mark_seen(e, position, now);
    if (auto allowed = rm.check_pass_allowed(position, now); !allowed) co_return std::unexpected(allowed.error());
    // A pass in a copy with nothing in flight is in the log: hand it out again.
    if (const core::Session* s = rm.session(position, now); s && !e.uncommitted) co_return pass_view(*s, now);
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
  // Signed on the request's thread: the store's thread only decides and appends.
  auto pass = minter_.mint(request);
  if (!pass) co_return std::unexpected(pass.error());
  std::function<core::Result<PassView>(Entry&, Records&)> fn =
      [this, room, ticket, position, now, request, signed_pass = std::move(*pass)](Entry& e, Records& out)
      -> core::Result<PassView> {
    if (!e.room || e.room->epoch() != request.epoch)
      return fail(ErrorCode::gone, "the line was reset while the pass was being issued");
    core::Room& rm = *e.room;
    // The cap on active sessions is checked on the copy every node appends through: max_active holds.
    if (auto allowed = rm.check_pass_allowed(position, now); !allowed) return std::unexpected(allowed.error());
    if (const core::Session* s = rm.session(position, now)) return pass_view(*s, now);  // another node was first
    out.emplace_back(PassIssuedRecord{room, request.epoch, position, now, request.expires_at_s, signed_pass});
    emit(room, "token_generated", {{"event_id", room}, {"request_id", ticket}, {"position", position},
                                   {"expires_at", request.expires_at_s}});
    const core::Session& s = rm.add_session(
        position, core::Session{signed_pass, now, request.expires_at_s, core::SessionStatus::active, 0, {}, 0});
    note_change(e);
    return pass_view(s, now);
  };
  auto change_op = change<PassView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<PassCheck> RedisStore::check_pass(std::string room, std::string ticket, std::string pass) {
  for (int attempt = 0;; ++attempt) {
    auto e = find(room);
    const auto ref = token::TicketIdCodec::decode_untrusted(ticket);
    if (!ref) co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
    bool unknown = false;
    if (e) {
      std::lock_guard lock(e->mu);
      if (e->room && ref->epoch == e->room->epoch()) {
        core::Room& rm = *e->room;
        const std::int64_t now = clock_.now_s();
        const std::uint64_t position = ref->position;
        const bool known = rm.has_ticket(position) && rm.session(position, now) != nullptr;
        if (known || attempt > 0) {
          auto checked = check_session_pass(rm, position, ticket, pass, now);
          if (checked) mark_seen(*e, position, now);
          if (checked || checked.error().code != ErrorCode::unauthorized || known) co_return checked;
        }
        unknown = !known;
      } else {
        unknown = !e->room || ref->epoch > e->room->epoch();
        if (!unknown) co_return fail(ErrorCode::gone, "this ticket belongs to a line that was reset; join again");
      }
    } else {
      unknown = true;
    }
    // A pass issued on another node a moment ago: read the log once before refusing it, but only
    // for a genuine ticket id, so forged ones never reach Redis.
    if (!unknown || attempt > 0 || !ids_.decode(room, ticket)) break;
    auto sync_op = sync(room);
    if (auto synced = co_await std::move(sync_op); !synced) co_return std::unexpected(synced.error());
  }
  if (!find(room)) co_return std::unexpected(unknown_room(room));
  co_return fail(ErrorCode::unauthorized, "not a pass this room issued for this ticket");
}

Store::Op<PassView> RedisStore::renew_pass(std::string room, std::string ticket, std::string binding) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  const std::uint64_t position = found->position;
  const std::int64_t now = clock_.now_s();
  auto fresh = [now](const core::Session& s, const core::RoomSettings& st) {
    return (s.expires_at_s - now) * 2 >= st.pass_lifetime_s;
  };
  core::PassRequest request;
  {
    Entry& e = *found->entry;
    std::lock_guard lock(e.mu);
    if (!e.room) co_return std::unexpected(unknown_room(room));
    core::Room& rm = *e.room;
    const core::Session* s = rm.session(position, now);
    if (!s || s->status != core::SessionStatus::active)
      co_return fail(ErrorCode::gone, "this ticket has no active session to renew");
    const core::RoomSettings& st = rm.settings();
    if (fresh(*s, st) && !e.uncommitted) co_return pass_view(*s, now);  // renewed already (or not due)
    request = core::PassRequest{room, st.algorithm, st.issuer, rm.audience(), ticket, position, rm.epoch(),
                                now,  now + st.pass_lifetime_s, std::move(binding)};
  }
  auto pass = minter_.mint(request);
  if (!pass) co_return std::unexpected(pass.error());
  std::function<core::Result<PassView>(Entry&, Records&)> fn =
      [this, room, ticket, position, now, request, fresh, signed_pass = std::move(*pass)](Entry& e, Records& out)
      -> core::Result<PassView> {
    if (!e.room || e.room->epoch() != request.epoch) return fail(ErrorCode::gone, "this ticket has no active session to renew");
    core::Room& rm = *e.room;
    const core::Session* s = rm.session(position, now);
    if (!s || s->status != core::SessionStatus::active)
      return fail(ErrorCode::gone, "this ticket has no active session to renew");
    if (fresh(*s, rm.settings())) return pass_view(*s, now);  // another request renewed it first
    out.emplace_back(PassRenewedRecord{room, request.epoch, position, request.expires_at_s, signed_pass});
    if (auto renewed = rm.renew_session(position, signed_pass, request.expires_at_s, 0); !renewed)
      return std::unexpected(renewed.error());
    emit(room, "session_renewed", {{"event_id", room}, {"request_id", ticket}, {"position", position},
                                   {"expires_at", request.expires_at_s}});
    return PassView{signed_pass, request.expires_at_s, request.expires_at_s - now};
  };
  auto change_op = change<PassView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

// ---- rooms ---------------------------------------------------------------------------------------

// A room this node has not heard of may have been created on another a moment ago.
Store::Op<std::shared_ptr<RedisStore::Entry>> RedisStore::find_room(std::string room) {
  auto e = find(room);
  bool known = false;
  if (e) {
    std::lock_guard lock(e->mu);
    known = e->room.has_value();
  }
  if (known) co_return e;
  if (!core::is_valid_room_name(room)) co_return std::unexpected(unknown_room(room));
  auto sync_op = sync(room);
  if (auto synced = co_await std::move(sync_op); !synced) co_return std::unexpected(synced.error());
  e = find(room);
  if (!e) co_return std::unexpected(unknown_room(room));
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
    if (e->room) views.push_back(view_of(*e->room));
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
  if (auto listed = co_await std::move(register_op); !listed) co_return std::unexpected(listed.error());
  std::function<core::Result<std::pair<RoomView, bool>>(Entry&, Records&)> fn =
      [this, room, update = std::move(update)](Entry& e, Records& out) -> core::Result<std::pair<RoomView, bool>> {
    std::optional<core::RoomSettings> current;
    if (e.room) current = e.room->settings();
    auto settings = update(current);
    if (!settings) return std::unexpected(settings.error());
    out.emplace_back(RoomPutRecord{room, json::serialize(config::room_settings_to_json(*settings, config::Secrets::include))});
    emit(room, "policy.changed", {{"created", !e.room.has_value()},
                                  {"settings", config::room_settings_to_json(*settings, config::Secrets::redact)}});
    const bool created = !e.room;
    if (e.room) {
      e.room->set_settings(*settings);
    } else {
      e.room.emplace(room, *settings);
      e.room->reset(e.last_epoch + 1);
      e.last_epoch = e.room->epoch();
    }
    note_change(e);
    return std::pair{view_of(*e.room), created};
  };
  auto change_op = change<std::pair<RoomView, bool>>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<void> RedisStore::delete_room(std::string room) {
  std::function<core::Result<void>(Entry&, Records&)> fn = [this, room](Entry& e, Records& out) -> core::Result<void> {
    if (!e.room) return std::unexpected(unknown_room(room));
    out.emplace_back(RoomDeleteRecord{room});
    emit(room, "room.deleted", {});
    e.room.reset();
    note_change(e);  // its streams end
    return {};
  };
  auto change_op = change<void>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<std::uint64_t> RedisStore::advance(std::string room, Advance advance) {
  std::function<core::Result<std::uint64_t>(Entry&, Records&)> fn =
      [this, room, advance](Entry& e, Records& out) -> core::Result<std::uint64_t> {
    if (!e.room) return std::unexpected(unknown_room(room));
    core::Room& rm = *e.room;
    const std::int64_t now = clock_.now_s();
    auto moved = advance.to ? rm.advance_to(*advance.to, now) : rm.advance_by(advance.by.value_or(0), now);
    if (!moved) return std::unexpected(moved.error());
    emit(room, "serving.advanced", {{"previous", moved->cursor_from}, {"serving", moved->cursor_to},
                                    {"admitted", moved->admitted.size()}});
    publish_step(events_, clock_, ids_, rm, *moved);
    out.emplace_back(admit_record(room, rm.epoch(), *moved));
    note_change(e);
    return rm.serving();
  };
  auto change_op = change<std::uint64_t>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<RoomView> RedisStore::set_paused(std::string room, bool paused) {
  std::function<core::Result<RoomView>(Entry&, Records&)> fn =
      [this, room, paused](Entry& e, Records& out) -> core::Result<RoomView> {
    if (!e.room) return std::unexpected(unknown_room(room));
    core::RoomSettings st = e.room->settings();
    st.state = paused ? core::RoomState::paused : core::RoomState::open;
    e.room->set_settings(st);
    emit(room, paused ? "room.paused" : "room.resumed", {});
    out.emplace_back(RoomPutRecord{room, json::serialize(config::room_settings_to_json(st, config::Secrets::include))});
    note_change(e);
    return view_of(*e.room);
  };
  auto change_op = change<RoomView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<RoomView> RedisStore::reset(std::string room) {
  std::function<core::Result<RoomView>(Entry&, Records&)> fn = [this, room](Entry& e, Records& out) -> core::Result<RoomView> {
    if (!e.room) return std::unexpected(unknown_room(room));
    const std::uint32_t epoch = e.room->epoch() + 1;
    if (epoch > core::kMaxEpoch)
      return fail(ErrorCode::conflict, "this room has been reset too often; delete and re-create it");
    e.room->reset(epoch);
    e.last_epoch = epoch;
    out.emplace_back(ResetRecord{room, epoch});
    emit(room, "room.reset", {{"epoch", epoch}});
    note_change(e);  // every ticket of the old epoch is gone
    return view_of(*e.room);
  };
  auto change_op = change<RoomView>(std::move(room), std::move(fn));
  co_return co_await std::move(change_op);
}

Store::Op<TicketView> RedisStore::end_session(std::string room, std::string ticket, core::SessionStatus status) {
  auto find_op = find_ticket_fresh(room, ticket);
  auto found = co_await std::move(find_op);
  if (!found) co_return std::unexpected(found.error());
  const std::uint64_t position = found->position;
  std::function<core::Result<TicketView>(Entry&, Records&)> fn =
      [this, room, ticket, position, status](Entry& e, Records& out) -> core::Result<TicketView> {
    if (!e.room) return std::unexpected(unknown_room(room));
    core::Room& rm = *e.room;
    if (!rm.has_ticket(position)) return fail(ErrorCode::gone, "this ticket belongs to a line that was reset; join again");
    auto changed = rm.end_session(position, status, clock_.now_s());
    if (!changed) return std::unexpected(changed.error());
    if (*changed) {
      out.emplace_back(SessionEndRecord{room, rm.epoch(), position, status});
      emit(room, "session_updated", {{"event_id", room}, {"request_id", ticket}, {"status", core::to_string(status)}});
      note_change(e);
    }
    return ticket_view(rm, position);
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
  co_return expired_ticket_ids(*(*e)->room, ids_, clock_.now_s());
}

Store::Op<AdmissionsPage> RedisStore::admissions(std::string room, std::uint64_t from, std::uint64_t limit) {
  auto room_op = find_room(room);
  auto e = co_await std::move(room_op);
  if (!e) co_return std::unexpected(e.error());
  std::lock_guard lock((*e)->mu);
  if (!(*e)->room) co_return std::unexpected(unknown_room(room));
  co_return admissions_page(*(*e)->room, ids_, from, limit);
}

}  // namespace waitroom::store::redis
