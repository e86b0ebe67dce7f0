#pragma once
// The scale-out store: every node keeps a copy of each room (core::Room, as the embedded store
// does) built from the room's log in Redis, and changes a room only through that log
// (redis_scripts.hpp). Reads — polls, the gate, event streams — are answered from the copy and
// never wait on Redis; writes are acknowledged once Redis holds their record. docs/scaling.md.
//
// Threads: one thread of our own runs every Redis conversation and every change of the copies,
// room by room in the order the records were appended; request threads read the copies under the
// room's lock and hand their writes over to that thread.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "engine/log_records.hpp"
#include "engine/room_ops.hpp"
#include "store/redis/redis_client.hpp"
#include "store/redis/redis_cluster.hpp"
#include "store/redis/redis_cluster_subscriptions.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_subscriber.hpp"
#include "store/room_storage.hpp"
#include "store/store.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::store::redis {

class RedisStorage final : public RoomStorage {
 public:
  // Connects, loads every room's log and subscribes to the other nodes' changes. Fails when
  // Redis cannot be reached at start (a node that never saw the rooms has nothing to serve).
  // A room this node drives is compacted once its log grew by `compact_after_bytes` (0: only
  // when an operator asks).
  static core::Result<std::unique_ptr<RedisStorage>> open(RedisOptions options,
                                                          std::string key_prefix,
                                                          const core::Clock& clock,
                                                          const token::TicketIdCodec& ids,
                                                          std::uint64_t compact_after_bytes = 0,
                                                          ops::EventFeed* feed = nullptr);
  ~RedisStorage() override;

  core::Result<void> read(const std::string& room, Reader read) override;
  bool shared() const override { return true; }
  Op<void> catch_up(std::string room) override { return sync(std::move(room)); }
  Op<void> change(std::string room, Changer change, bool may_create) override;
  // A read-only job of the room's writer waits for the commits in flight; one that failed left
  // the copy to be read again from the log first.
  Op<void> settle(std::string room, std::uint64_t) override { return sync(std::move(room)); }
  void for_each_room(Reader read) override;
  void step_rooms(Stepper step, QuietCheck quiet) override;
  Op<CompactionReport> compact() override;
  bool ready() const override;
  void stop() override;
  std::uint64_t replayed_records() const override { return replayed_records_; }
  // Commands sent to Redis, changes committed and records appended, waits for a room's write lock.
  void render_metrics(std::string& out) const override;

 private:
  struct Entry;
  // One request's change of a room, run by the room's writer on an up-to-date copy under the
  // room's lock (a room operation, engine/room_ops.hpp); it adds its effects to the batch's and
  // keeps its answer itself.
  struct Job {
    std::function<void(Entry&, engine::Effects&)> run;
    bool read_only = false;  // only brings the copy up to date (no write lock)
    bool fenced = false;     // the driver's step: committed only while this node holds the lease
    bool compacts = false;   // replaces the room's log by its snapshot (redis_compaction.cpp)
    std::optional<core::Error> failure;  // set when the batch could not be committed
    std::function<void()> done;          // resumes the job's caller (on its own executor)
  };
  struct Entry {
    explicit Entry(std::string n) : name(std::move(n)) {}
    const std::string name;
    // Under `mu` (read by request threads):
    std::mutex mu;
    std::optional<core::Room> room;  // nullopt before the room's first put and after a delete
    std::uint32_t last_epoch = 0;
    std::uint64_t last_event_seq = 0;  // the room's feed numbers its next event after this
    std::uint64_t change_id = 0;
    std::uint64_t expired_sessions = 0;
    std::vector<std::uint64_t> seen;  // positions seen here since the last presence flush
    // Set when a record of the room's log cannot be read (redis_record.hpp): the room is stopped
    // there and every operation on it answers this, until the record reads again
    // (redis_stopped_room.cpp). Written only on the store's thread.
    std::optional<core::Error> damage;
    // Only on the store's thread:
    bool uncommitted = false;     // (under mu) the copy holds a change whose commit is in flight
    std::uint64_t applied = 0;    // records of the log applied to `room` (or held by a snapshot)
    std::uint64_t base = 0;       // records compactions dropped from the list's head, as last read
    std::uint64_t log_bytes = 0;  // the list's records as this node read them (compaction's cue)
    std::uint64_t snapshot_bytes = 0;  // of them, the snapshot at the list's head
    // The list as the last compaction found it, for its report.
    std::uint64_t compacted_records = 0, compacted_bytes = 0;
    std::deque<Job*> jobs;
    // Under `inbox_mu` (jobs are handed over from any thread):
    std::mutex inbox_mu;
    std::vector<Job*> inbox;
    bool writing = false;  // a writer runs, or is about to
    bool dropped = false;  // forgotten (never a room): submit to a fresh entry
    // Only on the store's thread:
    bool sync_queued = false;
    bool diverged = false;  // a change was applied but not committed: reload before the next
    std::chrono::steady_clock::time_point recheck_at{};  // a stopped room's log is read again then
    // This node holds the room's write lock (kept after a commit) until then, with this token.
    std::chrono::steady_clock::time_point lock_until{};
    std::string lock_token;  // this node's lock of its last change: it may still hold it
    std::chrono::steady_clock::time_point contended_until{};  // other nodes write the room too
    int in_flight = 0;                                        // commits sent, not answered yet
    bool fenced_in_flight = false;  // the driver's step is among them: nothing may follow it
    std::uint64_t sent = 0;         // the log's length once they have landed
    boost::asio::steady_timer* landed = nullptr;  // the writer's, woken as each commit is answered
    std::chrono::steady_clock::time_point lease_until{};  // this node drives the room until then
    std::chrono::steady_clock::time_point lease_renew_at{};
  };

  RedisStorage(RedisOptions options, std::string key_prefix, const core::Clock& clock,
               const token::TicketIdCodec& ids);

  std::shared_ptr<Entry> find(const std::string& room) const;
  std::shared_ptr<Entry> find_or_add(const std::string& room);
  RoomSlot slot_of(Entry& entry) const;
  // Any thread: runs `run` as a job of the room's writer; empty `run`: only brings the copy up to
  // the room's log (redis_writer.cpp).
  Op<void> run_job(std::string room, std::function<void(Entry&, engine::Effects&)> run, bool fenced,
                   bool read_only, bool compacts = false);
  void submit(const std::string& room, Job* job);
  bool take_jobs(Entry& entry);     // moves the inbox to `jobs`; false when there is none
  Op<void> sync(std::string room);  // brings the room's copy up to its log
  void schedule_sync(const std::shared_ptr<Entry>& entry);
  Op<void> register_room(std::string room);
  Op<void> register_on_thread(std::string room);
  static void finish(std::vector<Job*>& batch, const std::optional<core::Error>& failure);
  boost::asio::awaitable<void> run_writer(std::shared_ptr<Entry> entry);
  // The room's log beyond this copy, and its length (redis_writer.cpp).
  struct Tail {
    std::int64_t length = 0;
    std::vector<Reply> missing;
    std::uint64_t first = 0;  // the index of missing[0]: past `applied` after a compaction
  };
  boost::asio::awaitable<core::Result<Tail>> read_tail(Entry& entry, bool writes);
  boost::asio::awaitable<core::Result<Tail>> take_write_lock(Entry& entry);
  boost::asio::awaitable<void> write_batch(std::shared_ptr<Entry> entry, std::vector<Job*> batch);
  // Commits the batch's records; only once Redis holds them are its events published and its
  // change announced to the event streams.
  boost::asio::awaitable<void> commit_batch(std::shared_ptr<Entry> entry, std::vector<Job*> batch,
                                            engine::Effects out, std::int64_t length, bool fenced);
  boost::asio::awaitable<void> wait_for_commits(Entry& entry, int allowed);
  boost::asio::awaitable<void> wait_for_room_to_commit(Entry& entry, bool writes);
  boost::asio::awaitable<void> unlock(Entry& entry);
  boost::asio::awaitable<core::Result<Reply>> read_log(const std::string& room, std::uint64_t from,
                                                       std::uint64_t count);
  boost::asio::awaitable<core::Result<void>> reload(Entry& entry);
  // Compaction (redis_compaction.cpp): under the write lock, at the copy's length, the room's list
  // becomes its snapshot. Rooms this node drives whose list grew by compact_after_bytes_ are
  // compacted by themselves; an operator's request compacts every room.
  boost::asio::awaitable<void> compact_room(Entry& entry, std::int64_t length,
                                            std::vector<Job*>& batch);
  boost::asio::awaitable<core::Result<CompactionReport>> compact_rooms(bool automatic);
  core::Result<CompactionReport> compact_now(bool automatic);
  bool compaction_due() const;
  core::Result<void> apply(Entry& entry, const engine::LogRecord& record);
  // Applies the records a change or a sync read from the log (under the entry's lock).
  void apply_missing(Entry& entry, const std::vector<Reply>& missing, std::uint64_t first);
  // A room whose record `index` cannot be read is stopped there; it resumes once that record (and
  // what follows) reads (redis_stopped_room.cpp). Both under the entry's lock.
  void stop_room(Entry& entry, std::uint64_t index, std::string_view why);
  void resume_room(Entry& entry);
  // Finishes the batch with a stopped room's error, unless it may read the log again now.
  bool refuse_while_stopped(Entry& entry, std::vector<Job*>& batch, bool may_recheck);
  std::size_t stopped_rooms() const;
  boost::asio::awaitable<core::Result<void>> load_all();
  boost::asio::awaitable<void> drive(Stepper step, QuietCheck quiet);
  boost::asio::awaitable<void> drive_room(std::shared_ptr<Entry> e, const Stepper& step,
                                          const QuietCheck& quiet);
  bool step_quietly(Entry& e, const Stepper& step, const QuietCheck& quiet);
  boost::asio::awaitable<void> release_and_close();
  boost::asio::awaitable<void> refresh_loop();
  void on_message(std::string_view channel, std::string_view message);
  boost::asio::awaitable<void> flush_seen();
  // This node's part of the rooms' sites' health, for the other nodes (every second).
  boost::asio::awaitable<void> flush_health();

  void note_change(Entry& entry);
  // The channel this room's commits announce themselves on (a cluster: the room's own).
  std::string changes_channel_of(std::string_view room) const;
  // A Redis Cluster: listen to a room's own channel from now on (any thread).
  void listen_to(const std::string& room);

  RedisOptions options_;
  RedisKeys keys_;
  const core::Clock& clock_;
  const token::TicketIdCodec& ids_;
  const std::string node_;  // this node's id (lease holder, lock token prefix)
  std::uint64_t replayed_records_ = 0;
  std::atomic<std::uint64_t> commands_{0};    // sent by this node, every kind
  std::atomic<std::uint64_t> commits_{0};     // batches whose records Redis appended
  std::atomic<std::uint64_t> records_{0};     // records appended by those
  std::atomic<std::uint64_t> lock_waits_{0};  // begins that found another node's write lock
  std::uint64_t lock_tokens_ = 0;

  boost::asio::io_context ctx_;
  std::unique_ptr<RedisClient> redis_;
  RedisCluster* cluster_ = nullptr;              // redis_, when it is a Redis Cluster
  std::unique_ptr<RedisSubscriber> subscriber_;  // one Redis
  std::unique_ptr<ClusterSubscriptions> cluster_subscriptions_;  // a Redis Cluster
  std::atomic<bool> healthy_{false};  // the last conversation with Redis worked
  std::atomic<bool> stopping_{false};
  std::jthread thread_;

  mutable std::shared_mutex rooms_mu_;
  std::map<std::string, std::shared_ptr<Entry>> rooms_;

  std::uint64_t compact_after_bytes_ = 0;
  Compactor compactor_;
};

// The room operations (store.hpp) over the Redis storage.
core::Result<std::unique_ptr<Store>> open_redis_store(RedisOptions options, std::string key_prefix,
                                                      const core::Clock& clock,
                                                      const token::TicketIdCodec& ids,
                                                      const core::PassMinter& minter,
                                                      std::uint64_t compact_after_bytes = 0,
                                                      ops::EventFeed* feed = nullptr);

}  // namespace waitroom::store::redis
