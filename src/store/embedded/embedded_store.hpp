#pragma once
// The default store: every room's state in memory, each change made durable in one log with group
// commit (durable_log.hpp). Reads never touch the disk; writes are acknowledged only once their
// record is durable, so an acknowledged enqueue, advance or pass survives kill -9. The log is the
// outbox: what a change announces leaves once its record is durable, in log order.
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "core/clock.hpp"
#include "engine/log_records.hpp"
#include "store/compactor.hpp"
#include "store/embedded/durable_log.hpp"
#include "store/room_storage.hpp"
#include "store/store.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::store {

class EmbeddedStorage final : public RoomStorage {
 public:
  // Opens (or creates) `data_dir`/waitroom.log and replays it; the rooms' events go to `feed`
  // (null: events are not recorded). Call start() before serving.
  static core::Result<std::unique_ptr<EmbeddedStorage>> open(const std::filesystem::path& data_dir,
                                                             bool fsync_each_batch,
                                                             const core::Clock& clock,
                                                             const token::TicketIdCodec& ids,
                                                             ops::EventFeed* feed = nullptr);
  ~EmbeddedStorage() override;

  // Starts the log's writer, and the compactor when `compact_after_bytes` > 0: the log is then
  // compacted whenever it grew by that much since the last compaction (or since start-up).
  void start(std::uint64_t compact_after_bytes = 0);
  void set_log_write_delay(std::chrono::milliseconds delay) { log_->set_write_delay(delay); }
  // Appends `count` tickets to `room` without going through HTTP: used by
  // `waitroom bench-fill` to build large data sets for the memory and restart benchmarks.
  core::Result<void> fill(const std::string& room, std::uint64_t count);

  core::Result<void> read(const std::string& room, Reader read) override;
  bool shared() const override { return false; }
  // Nothing to catch up with: this process is the only writer.
  Op<void> catch_up(std::string room) override { return settle(std::move(room), 0); }
  Op<void> change(std::string room, Changer change, bool may_create) override;
  Op<void> settle(std::string room, std::uint64_t mark) override;
  void for_each_room(Reader read) override;
  void step_rooms(Stepper step, QuietCheck quiet) override;
  Op<CompactionReport> compact() override;
  bool ready() const override { return !log_->failed(); }
  void render_metrics(std::string& out) const override;
  void stop() override;
  std::uint64_t replayed_records() const override { return replayed_records_; }

 private:
  struct Entry {
    Entry(std::string n, std::int64_t now_ms)
        : name(std::move(n)), change_id(static_cast<std::uint64_t>(now_ms)) {}
    const std::string name;
    std::mutex mu;
    std::optional<core::Room> room;  // empty after a delete (the entry keeps the name's epoch)
    std::uint32_t last_epoch = 0;
    // Grows with every committed change a ticket's status may show (Store::WatchedTicket).
    // Starts at the clock's milliseconds, so ids keep growing across restarts and a client's
    // Last-Event-ID from before a restart does not match by chance.
    std::uint64_t change_id = 0;
    std::uint64_t expired_sessions = 0;
    std::uint64_t last_lsn = 0;        // the lsn of the room's last appended record
    std::uint64_t last_event_seq = 0;  // the room's feed numbers its next event after this
  };
  // A change whose records are not durable yet: once they are, the room's change counter grows
  // and listeners hear of it. (Its events are in the feed, which hands them out once durable.)
  struct Announcement {
    std::shared_ptr<Entry> entry;
  };

  EmbeddedStorage(std::unique_ptr<DurableLog> log, const core::Clock& clock,
                  const token::TicketIdCodec& ids);
  core::Result<void> apply(const engine::LogRecord& record);
  std::shared_ptr<Entry> find(const std::string& room) const;
  RoomSlot slot_of(Entry& entry) const;
  bool durable_now(std::uint64_t lsn) const;
  void note_durable(std::uint64_t lsn) const;  // raises known_durable_ to `lsn`
  std::vector<std::shared_ptr<Entry>> entries() const;
  // A put of a room this storage has never had, run and committed under the map's lock so that the
  // room appears with its first record. Returns the lsn to wait for; nullopt when the put failed,
  // and the room's entry when another put created it first.
  std::optional<std::uint64_t> create(const std::string& room, Changer change,
                                      std::shared_ptr<Entry>& existing);
  // Under the room's lock: appends the effects' records and keeps what they announce until they
  // are durable. Returns the lsn that makes them so.
  std::uint64_t commit(const std::shared_ptr<Entry>& entry, engine::Effects&& fx);
  // Runs `change` and appends its records: the lsn that makes them durable, nullopt when the
  // operation failed (nothing to wait for).
  core::Result<std::optional<std::uint64_t>> append_change(const std::string& room, Changer change,
                                                           bool may_create);
  // Waits until `lsn` is durable, then announces what became durable; an error if the log failed.
  Op<void> wait_durable(std::uint64_t lsn);
  // Publishes, in log order, what every durable change announces (any thread).
  void announce_durable();
  core::Result<void> writable() const;
  // Compaction (embedded_compaction.cpp): every room's snapshot, then the log rewritten as the
  // snapshots and the records that came after them. On the compactor's thread.
  core::Result<CompactionReport> compact_now();
  bool compaction_due() const;

  std::unique_ptr<DurableLog> log_;
  const core::Clock& clock_;
  const token::TicketIdCodec& ids_;
  std::uint64_t replayed_records_ = 0;
  std::atomic<std::uint64_t> appended_{0};  // the highest lsn appended
  // An lsn known to be durable: a read checks its room's last record against it without taking
  // the log's lock (the status poll and the gate read on every request).
  mutable std::atomic<std::uint64_t> known_durable_{0};
  std::mutex outbox_mu_;
  std::multimap<std::uint64_t, Announcement> outbox_;  // by lsn; announced once durable
  std::mutex announce_mu_;  // one announcer at a time, so announcements leave in log order
  // Admission steps' announcements the log has yet to hand back (stop() waits for them: their
  // handlers run on another thread and use this storage).
  std::atomic<int> step_announcements_{0};

  mutable std::shared_mutex rooms_mu_;  // guards the map; each room has its own lock
  // Every name that was a room, also after its delete: a re-created room never accepts tickets
  // of the deleted one (its epoch continues).
  std::map<std::string, std::shared_ptr<Entry>> rooms_;

  std::uint64_t compact_after_bytes_ = 0;             // 0: only when an operator asks
  std::atomic<std::uint64_t> compacted_at_bytes_{0};  // the log's size after the last one
  Compactor compactor_;
};

// The room operations (store.hpp) over the embedded storage.
class EmbeddedStore final : public Store {
 public:
  static core::Result<std::unique_ptr<EmbeddedStore>> open(const std::filesystem::path& data_dir,
                                                           bool fsync_each_batch,
                                                           const core::Clock& clock,
                                                           const token::TicketIdCodec& ids,
                                                           const core::PassMinter& minter,
                                                           ops::EventFeed* feed = nullptr);

  void start(std::uint64_t compact_after_bytes = 0) { embedded_.start(compact_after_bytes); }
  void set_log_write_delay(std::chrono::milliseconds delay) {
    embedded_.set_log_write_delay(delay);
  }
  core::Result<void> fill(const std::string& room, std::uint64_t count) {
    return embedded_.fill(room, count);
  }

 private:
  EmbeddedStore(std::unique_ptr<EmbeddedStorage> storage, const core::Clock& clock,
                const token::TicketIdCodec& ids, const core::PassMinter& minter);

  EmbeddedStorage& embedded_;
};

}  // namespace waitroom::store
