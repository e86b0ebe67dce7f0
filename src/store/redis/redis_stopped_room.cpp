// A room whose log in Redis holds a record this node cannot read is stopped at that record. The
// record is never skipped: the records after it may depend on it (a ticket's admission on its
// enqueue), and a copy built without it would hand out positions and ticket ids already held, the
// loss issue 25 forbids. Nor does the node refuse to start: the other rooms' logs are intact, and
// the damage is in Redis, shared by every node, so stopping the node (or failing /readyz) would
// only take the healthy rooms down with it on every node at once.
//
// So the room alone answers 503 problem+json naming the room, the record's key and index and what
// failed; the error is logged once at level error with what to do; `waitroom_redis_stopped_rooms`
// in /metrics counts such rooms for alerting. Its copy keeps the records before the bad one, and
// its log is read again from there at most every kRecheckStopped: once an operator has put the
// record right in Redis (restored it from a backup, docs/operations.md "Damage in Redis"), the
// room is served again without a restart.
#include "ops/log.hpp"
#include "store/redis/redis_store.hpp"
#include "store/redis/redis_store_internal.hpp"

namespace waitroom::store::redis {

using namespace internal;

void RedisStorage::stop_room(Entry& e, std::uint64_t index, std::string_view why) {
  const std::string key = keys_.log(e.name);
  const std::string at = std::to_string(index);
  // Compactions dropped `base` records from the list's head: the list's own index is less.
  const std::string list_index = std::to_string(index - std::min(index, e.base));
  std::string detail = "room \"" + e.name + "\" is stopped: record " + at +
                       " of its log in Redis (key " + key + ", index " + list_index +
                       ") cannot be read: " + std::string(why) +
                       ". Waitroom does not skip a record; the room answers 503 until an operator "
                       "puts it right (docs/operations.md, \"Damage in Redis\")";
  e.recheck_at = std::chrono::steady_clock::now() + kRecheckStopped;
  if (e.damage && e.damage->detail == detail) return;  // said already
  e.damage = core::Error{ErrorCode::unavailable, std::move(detail), kStoppedRetryAfterS};
  ops::log_error(
      "a record of a room's log in Redis cannot be read: the room is stopped",
      {{"room", e.name},
       {"key", key},
       {"index", index - std::min(index, e.base)},
       {"records_before", index},
       {"error", std::string(why)},
       {"what_to_do",
        "restore the record from a Redis backup taken after it was written (docs/operations.md, "
        "\"Damage in Redis\"); this node reads it again every " +
            std::to_string(kRecheckStopped.count()) +
            " s and serves the room once it reads. A record a newer version wrote needs this node "
            "upgraded"}});
}

void RedisStorage::resume_room(Entry& e) {
  if (!e.damage) return;
  e.damage.reset();
  ops::log_info("a stopped room's log reads again: serving the room",
                {{"room", e.name}, {"records", e.applied}});
}

bool RedisStorage::refuse_while_stopped(Entry& e, std::vector<Job*>& batch, bool may_recheck) {
  std::optional<core::Error> damage;
  {
    std::lock_guard lock(e.mu);
    damage = e.damage;
  }
  if (!damage) return false;
  if (may_recheck && SteadyClock::now() >= e.recheck_at) {
    e.recheck_at = SteadyClock::now() + kRecheckStopped;
    return false;
  }
  finish(batch, *damage);
  return true;
}

std::size_t RedisStorage::stopped_rooms() const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::shared_lock lock(rooms_mu_);
    for (const auto& [name, entry] : rooms_) entries.push_back(entry);
  }
  std::size_t stopped = 0;
  for (const auto& e : entries) {
    std::lock_guard lock(e->mu);
    if (e->damage) ++stopped;
  }
  return stopped;
}

}  // namespace waitroom::store::redis
