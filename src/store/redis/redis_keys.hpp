#pragma once
// The names of the Redis store's keys and channels. A room's keys share the hash tag {room}, so
// its scripts touch one slot and rooms spread over a Redis Cluster (docs/scaling.md).
#include <string>
#include <string_view>

namespace waitroom::store::redis {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  // The room's log: a list of encoded records (engine/log_records.hpp), index = sequence number.
  std::string log(std::string_view room) const { return tagged(room, "log"); }
  // How many records compactions dropped from the head of the room's log: index i of the list
  // is record base + i (absent: 0).
  std::string log_base(std::string_view room) const { return tagged(room, "base"); }
  // Held by one node for a change (begin → commit) or a run of them, fenced by its token.
  std::string write_lock(std::string_view room) const { return tagged(room, "lock"); }
  // The id of a node waiting for the write lock: its holder lets it go at its next commit.
  std::string lock_wanted(std::string_view room) const { return tagged(room, "wanted"); }
  // The admission driver's lease: the node that runs the room's policy and scheduled events.
  std::string driver(std::string_view room) const { return tagged(room, "driver"); }
  // The id of the node that last took the lease (kept, no expiry): the next node to take it lets
  // go of the room's write lock if that node still holds it (the lease script).
  std::string driver_was(std::string_view room) const { return tagged(room, "driver_was"); }
  // The room's minutes of one UTC day (YYYY-MM-DD): a hash from the minute's start in ms to its
  // line (minute_record.hpp), expiring after history_days (redis_history_archive.hpp).
  std::string history(std::string_view room, std::string_view date) const {
    return tagged(room, std::string("history:").append(date));
  }
  // Every room name ever created, so a starting node finds the logs to load.
  std::string rooms() const { return prefix_ + ":rooms"; }
  // Operator tokens (store/operator_tokens.hpp): hash id -> the token's JSON.
  std::string operator_tokens() const { return prefix_ + ":tokens"; }
  std::string operator_tokens_used() const { return prefix_ + ":tokens:used"; }
  // The audit trail (store/audit_trail.hpp): a list of JSON entries; ":seq" numbers them.
  std::string audit() const { return prefix_ + ":audit"; }
  // A webhook's place in the event feed (hash: room -> last acknowledged seq) and the lease of the
  // node that delivers for it; `reader` is ops::reader_id() of the webhook.
  std::string webhook_positions(std::string_view reader) const {
    return prefix_ + ":webhook:" + std::string(reader) + ":positions";
  }
  std::string webhook_lease(std::string_view reader) const {
    return prefix_ + ":webhook:" + std::string(reader) + ":lease";
  }
  // The secret and signing keys every node shares (shared_secrets.hpp).
  std::string shared_secrets() const { return prefix_ + ":secrets"; }
  // "ROOM NODE LENGTH" after every append: the other nodes read what they miss. In a Redis
  // Cluster each room has its own, on its shard (SPUBLISH), and the deployment's one only says
  // "ROOM NODE 0" when a room is created, so every node listens to the new room's.
  std::string changes_channel() const { return prefix_ + ":changes"; }
  std::string room_changes_channel(std::string_view room) const { return tagged(room, "changes"); }
  // "NODE ROOM EPOCH AT_S POSITION..." every second: tickets seen on one node count on all.
  std::string seen_channel() const { return prefix_ + ":seen"; }
  // "NODE ROOM HISTOGRAM FAILED POSTED" every second: the rooms' sites' health as each node sees
  // it (store/health_board.hpp), so the node driving a room steers by all of it.
  std::string health_channel() const { return prefix_ + ":health"; }

 private:
  std::string tagged(std::string_view room, std::string_view what) const {
    std::string key;
    key.reserve(prefix_.size() + room.size() + what.size() + 5);
    key.append(prefix_).append(":{").append(room).append("}:").append(what);
    return key;
  }
  std::string prefix_;
};

}  // namespace waitroom::store::redis
