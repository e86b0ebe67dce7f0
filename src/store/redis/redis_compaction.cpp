// The Redis store's compaction: a room's list in Redis becomes its snapshot (one record standing
// for every record before it), so Redis holds live state rather than a room's whole history, and
// a starting node reads one record per room plus what came after (docs/operations.md,
// "Compaction"). Indexes never go back: `{room}:base` counts the records dropped from the list's
// head, and every script adds it (redis_scripts.hpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>

#include "engine/room_snapshot.hpp"
#include "ops/log.hpp"
#include "store/redis/redis_record.hpp"
#include "store/redis/redis_scripts.hpp"
#include "store/redis/redis_store.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
using namespace internal;

RoomStorage::Op<CompactionReport> RedisStorage::compact() { return compactor_.request(); }

// Asked every second: the store's thread decides which rooms are due (compact_rooms).
bool RedisStorage::compaction_due() const { return compact_after_bytes_ > 0; }

core::Result<CompactionReport> RedisStorage::compact_now(bool automatic) {
  if (stopping_) return fail(ErrorCode::unavailable, "the server is stopping", kRetryAfterS);
  auto done = asio::co_spawn(ctx_, compact_rooms(automatic), asio::use_future);
  return done.get();
}

// On the store's thread. By itself only the rooms this node drives (one node compacts a room,
// not all of them at once) whose list grew by compact_after_bytes_; on request every room.
asio::awaitable<core::Result<CompactionReport>> RedisStorage::compact_rooms(bool automatic) {
  const auto started = SteadyClock::now();
  if (!automatic) {
    // Every room in Redis, also one created (and perhaps deleted) elsewhere that this node has not
    // heard of yet: its copy is read from the log by the compaction's own job.
    std::vector<std::string> smembers{"SMEMBERS", keys_.rooms()};
    auto smembers_op = redis_->command(std::move(smembers));
    auto members = co_await std::move(smembers_op);
    commands_.fetch_add(1);
    if (!members) co_return std::unexpected(members.error());
    if (members->is_error()) co_return fail(ErrorCode::unavailable, "Redis: " + members->str);
    for (const Reply& name : members->elements)
      if (core::is_valid_room_name(name.str)) find_or_add(name.str);
  }
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  CompactionReport report;
  std::optional<core::Error> failure;
  for (const auto& e : entries) {
    if (automatic && e->applied == 0) continue;  // not read yet: nothing this node drives
    if (automatic && (e->lease_until <= SteadyClock::now() ||
                      e->log_bytes < compact_after_bytes_ + e->snapshot_bytes))
      continue;
    auto op = run_job(e->name, nullptr, /*fenced=*/false, /*read_only=*/false, /*compacts=*/true);
    if (auto r = co_await std::move(op); !r) {
      failure = r.error();
      ops::log_warn("a room's log in Redis was not compacted",
                    {{"room", e->name}, {"error", r.error().detail}});
      continue;
    }
    ++report.rooms;
    report.records_before += e->compacted_records;
    report.records_after += e->applied - e->base;
    report.bytes_before += e->compacted_bytes;
    report.bytes_after += e->log_bytes;
  }
  report.took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  if (report.rooms == 0 && failure) co_return std::unexpected(*failure);
  co_return report;
}

// Under the write lock, with every commit landed and the copy at `length`: the list becomes the
// copy's snapshot. The lock stays as it was (kept or not); nothing is announced, since the room
// did not change.
asio::awaitable<void> RedisStorage::compact_room(Entry& e, std::int64_t length,
                                                 std::vector<Job*>& batch) {
  e.compacted_records = length > 0 ? static_cast<std::uint64_t>(length) - e.base : 0;
  e.compacted_bytes = e.log_bytes;
  if (length <= 0) {
    finish(batch, std::nullopt);
    co_return;
  }
  engine::RoomSnapshot snapshot;
  {
    std::lock_guard lock(e.mu);  // request threads read the copy meanwhile: copied, then encoded
    snapshot = take_snapshot(e.name, e.room, e.last_epoch, e.last_event_seq);
  }
  const std::string record = seal_record(engine::encode_record(engine::snapshot_record(snapshot)));
  std::vector<std::string> keys{keys_.log(e.name), keys_.write_lock(e.name),
                                keys_.log_base(e.name)};
  std::vector<std::string> args{e.lock_token, std::to_string(length), record};
  auto compact_op = run_script(*redis_, compact_script(), std::move(keys), std::move(args));
  auto reply = co_await std::move(compact_op);
  commands_.fetch_add(1);
  const bool compacted = reply && reply->type == Reply::Type::array &&
                         reply->elements.size() >= 2 && reply->elements[0].integer == 1;
  if (!compacted) {
    if (!reply) healthy_ = false;
    e.lock_until = {};  // refused: the lock is another's or gone; the next change begins anew
    const std::string why = !reply                       ? reply.error().detail
                            : reply->elements.size() > 1 ? reply->elements[1].str
                                                         : reply->str;
    finish(batch, core::Error{ErrorCode::unavailable,
                              "the room's log was not compacted (" + why + ")", kRetryAfterS});
    co_return;
  }
  e.base = static_cast<std::uint64_t>(length) - 1;
  e.log_bytes = e.snapshot_bytes = record.size();
  finish(batch, std::nullopt);
}

}  // namespace waitroom::store::redis
