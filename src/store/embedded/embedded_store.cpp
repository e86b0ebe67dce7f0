#include "store/embedded/embedded_store.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include "engine/apply_record.hpp"
#include "engine/event_records.hpp"
#include "store/embedded/log_format.hpp"

namespace waitroom::store {

using core::ErrorCode;
using core::fail;

namespace {
constexpr std::int64_t kUnavailableRetryAfterS = 5;

RoomStorage::Op<void> answered(core::Result<void> result) { co_return result; }

core::Error unknown_room(const std::string& room) {
  return core::Error{ErrorCode::not_found, "no room named \"" + room + "\"", 0};
}

core::Error not_durable() {
  return core::Error{ErrorCode::unavailable, "the store could not make the change durable",
                     kUnavailableRetryAfterS};
}

}  // namespace

core::Result<std::unique_ptr<EmbeddedStorage>> EmbeddedStorage::open(
    const std::filesystem::path& data_dir, bool fsync_each_batch, const core::Clock& clock,
    const token::TicketIdCodec& ids, ops::EventFeed* feed) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return fail(ErrorCode::internal, "cannot create " + data_dir.string() + ": " + ec.message());
  auto log = DurableLog::open(data_dir / kLogFileName, fsync_each_batch);
  if (!log) return std::unexpected(log.error());
  std::unique_ptr<EmbeddedStorage> storage(new EmbeddedStorage(std::move(*log), clock, ids));
  storage->set_event_feed(feed);
  // An event may leave once the record that carries it is durable.
  if (feed)
    feed->set_durable([s = storage.get()](std::uint64_t lsn) { return s->durable_now(lsn); });
  auto replayed = storage->log_->replay([&](std::string_view payload) -> core::Result<void> {
    auto record = engine::decode_record(payload);
    if (!record) return std::unexpected(record.error());
    return storage->apply(*record);
  });
  if (!replayed) return std::unexpected(replayed.error());
  storage->replayed_records_ = *replayed;
  for (auto& [name, entry] : storage->rooms_)
    if (entry->room) entry->room->refresh_presence(clock.now_s());
  return storage;
}

EmbeddedStorage::EmbeddedStorage(std::unique_ptr<DurableLog> log, const core::Clock& clock,
                                 const token::TicketIdCodec& ids)
    : log_(std::move(log)),
      clock_(clock),
      ids_(ids),
      compactor_([this](bool) { return compact_now(); }, [this] { return compaction_due(); }) {}

EmbeddedStorage::~EmbeddedStorage() { stop(); }

void EmbeddedStorage::start(std::uint64_t compact_after_bytes) {
  compact_after_bytes_ = compact_after_bytes;
  compacted_at_bytes_ = log_->bytes_on_disk();
  log_->start();
  compactor_.start();
}

void EmbeddedStorage::stop() {
  compactor_.stop();  // a compaction that runs ends first: it needs the log's writer
  log_->stop();       // completes every wait: durable, or failed
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (step_announcements_.load() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// Replay: each record re-applies exactly the change that was acknowledged when it was written.
core::Result<void> EmbeddedStorage::apply(const engine::LogRecord& record) {
  const std::string& name =
      std::visit([](const auto& r) -> const std::string& { return r.room; }, record);
  auto [it, added] = rooms_.try_emplace(name, nullptr);
  if (added) it->second = std::make_shared<Entry>(name, clock_.now_ms());
  Entry& e = *it->second;
  auto applied = engine::apply_record(name, e.room, e.last_epoch, record, clock_.now_s());
  if (applied) feed_record(name, e.last_event_seq, record);

  return applied;
}

std::shared_ptr<EmbeddedStorage::Entry> EmbeddedStorage::find(const std::string& room) const {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(room);
  return it == rooms_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<EmbeddedStorage::Entry>> EmbeddedStorage::entries() const {
  std::shared_lock lock(rooms_mu_);
  std::vector<std::shared_ptr<Entry>> all;
  all.reserve(rooms_.size());
  for (const auto& [name, entry] : rooms_) all.push_back(entry);
  return all;
}

// A pass the room's last record issued is handed out once that record is durable.
RoomSlot EmbeddedStorage::slot_of(Entry& e) const {
  return RoomSlot{e.room,
                  e.last_epoch,
                  e.expired_sessions,
                  e.change_id,
                  engine::OpContext{clock_, ids_, nullptr},
                  e.last_lsn != 0 && !durable_now(e.last_lsn),
                  e.last_lsn};
}

bool EmbeddedStorage::durable_now(std::uint64_t lsn) const {
  if (lsn <= known_durable_.load()) return true;
  if (!log_->is_durable(lsn)) return false;
  note_durable(lsn);
  return true;
}

void EmbeddedStorage::note_durable(std::uint64_t lsn) const {
  std::uint64_t known = known_durable_.load();
  while (known < lsn && !known_durable_.compare_exchange_weak(known, lsn)) {
  }
}

core::Result<void> EmbeddedStorage::read(const std::string& room, Reader read) {
  auto entry = find(room);
  if (!entry) {
    read_absent(read, engine::OpContext{clock_, ids_, nullptr});
    return {};
  }
  std::lock_guard lock(entry->mu);
  RoomSlot slot = slot_of(*entry);
  read(slot);
  return {};
}

void EmbeddedStorage::for_each_room(Reader read) {
  for (auto& entry : entries()) {
    std::lock_guard lock(entry->mu);
    RoomSlot slot = slot_of(*entry);
    read(slot);
  }
}

std::uint64_t EmbeddedStorage::commit(const std::shared_ptr<Entry>& entry, engine::Effects&& fx) {
  engine::seal_events(fx, entry->name, entry->last_event_seq);

  std::uint64_t lsn = 0;
  for (const engine::LogRecord& record : fx.records)
    lsn = log_->append(engine::encode_record(record),
                       /*wake_writer=*/false);  // wait_durable() wakes it
  if (lsn != 0) {
    entry->last_lsn = lsn;
    std::uint64_t seen = appended_.load();
    while (seen < lsn && !appended_.compare_exchange_weak(seen, lsn)) {
    }
  } else {
    lsn = appended_.load();  // nothing of its own to write: announced after what came before
  }
  // In the feed at once (a snapshot taken under the room's lock must keep them), handed out once
  // `lsn` is durable.
  feed_committed(entry->name, fx.records, lsn);
  if (!fx.changed) return lsn;
  std::lock_guard lock(outbox_mu_);
  outbox_.emplace(lsn, Announcement{entry});
  return lsn;
}

void EmbeddedStorage::announce_durable() {
  if (feed_) feed_->wake();
  std::lock_guard announcing(announce_mu_);
  for (;;) {
    Announcement next;
    {
      std::lock_guard lock(outbox_mu_);
      if (outbox_.empty() || !log_->is_durable(outbox_.begin()->first)) return;
      next = std::move(outbox_.begin()->second);
      outbox_.erase(outbox_.begin());
    }
    {
      std::lock_guard lock(next.entry->mu);
      ++next.entry->change_id;
    }
    if (changes_) changes_->room_changed(next.entry->name);
  }
}

// The wait is a named awaitable: g++ 12 resumed a coroutine that began with
// `if (!co_await durable(lsn))` on a stale thread.
RoomStorage::Op<void> EmbeddedStorage::wait_durable(std::uint64_t lsn) {
  bool ok = log_->is_durable(lsn);
  if (!ok) {
    auto wait = log_->async_wait(lsn, boost::asio::use_awaitable);
    ok = co_await std::move(wait);
  }
  if (!ok) co_return std::unexpected(not_durable());
  note_durable(lsn);
  announce_durable();
  co_return core::Result<void>{};
}

core::Result<void> EmbeddedStorage::writable() const {
  if (log_->failed())
    return fail(ErrorCode::unavailable, "the store cannot write to disk", kUnavailableRetryAfterS);
  return {};
}

std::optional<std::uint64_t> EmbeddedStorage::create(const std::string& room, Changer change,
                                                     std::shared_ptr<Entry>& existing) {
  std::unique_lock map_lock(rooms_mu_);
  if (auto it = rooms_.find(room); it != rooms_.end()) {
    existing = it->second;
    return std::nullopt;
  }
  auto entry = std::make_shared<Entry>(room, clock_.now_ms());
  std::lock_guard lock(entry->mu);
  engine::Effects fx = effects();
  RoomSlot slot = slot_of(*entry);
  if (!change(slot, fx)) return std::nullopt;
  if (entry->room) rooms_.emplace(room, entry);
  return commit(entry, std::move(fx));
}

// Under the room's lock the operation runs and its records are appended, so the log keeps the
// room's changes in the order they happened. Not a coroutine: only the wait for durability is one,
// so a change costs the caller one coroutine frame.
RoomStorage::Op<void> EmbeddedStorage::change(std::string room, Changer change, bool may_create) {
  auto lsn = append_change(room, change, may_create);
  if (!lsn) return answered(std::unexpected(lsn.error()));
  if (!*lsn) return answered({});  // the operation failed: nothing to wait for
  return wait_durable(**lsn);
}

core::Result<std::optional<std::uint64_t>> EmbeddedStorage::append_change(const std::string& room,
                                                                          Changer change,
                                                                          bool may_create) {
  if (auto w = writable(); !w) return std::unexpected(w.error());
  auto entry = find(room);
  if (!entry && may_create) {
    auto lsn = create(room, change, entry);
    if (lsn || !entry) return lsn;  // created, or the put failed
  }
  if (!entry) return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  engine::Effects fx = effects();
  RoomSlot slot = slot_of(*entry);
  if (!change(slot, fx)) return std::nullopt;
  return commit(entry, std::move(fx));
}

RoomStorage::Op<void> EmbeddedStorage::settle(std::string, std::uint64_t mark) {
  return wait_durable(mark);  // every room shares the one log
}

// One process holds the log: nothing to lock, so a quiet step costs nothing to tell apart.
void EmbeddedStorage::step_rooms(Stepper step, QuietCheck) {
  if (log_->failed()) return;  // nothing may change that cannot be made durable
  std::uint64_t lsn = 0;
  for (auto& entry : entries()) {
    std::lock_guard lock(entry->mu);
    if (!entry->room) continue;
    engine::Effects fx = effects();
    RoomSlot slot = slot_of(*entry);
    step(slot, fx, /*drives=*/true);
    if (!fx.empty()) lsn = std::max(lsn, commit(entry, std::move(fx)));
  }
  // Nobody waits on the steps' records: their announcements leave once the log has them.
  if (lsn != 0) {
    step_announcements_.fetch_add(1);
    log_->async_wait(lsn, [this](bool ok) {
      if (ok) announce_durable();
      step_announcements_.fetch_sub(1);
    });
  }
}

core::Result<void> EmbeddedStorage::fill(const std::string& room, std::uint64_t count) {
  auto entry = find(room);
  if (!entry) return std::unexpected(unknown_room(room));
  std::lock_guard lock(entry->mu);
  if (!entry->room) return std::unexpected(unknown_room(room));
  core::Room& rm = *entry->room;
  const std::int64_t now = clock_.now_s();
  // One record per ticket, exactly as live enqueues write them, so that restart benchmarks
  // replay what a real surge leaves behind.
  for (std::uint64_t i = 0; i < count; ++i) {
    auto position = rm.enqueue(now, 1, core::kTracksPresence);
    if (!position) return std::unexpected(position.error());
    const std::uint64_t lsn = log_->append(engine::encode_record(engine::EnqueueRecord{
        room, rm.epoch(), *position, 1, now, core::kTracksPresence}));  // wakes the writer
    appended_.store(lsn);
    entry->last_lsn = lsn;
  }
  return {};
}

core::Result<std::unique_ptr<EmbeddedStore>> EmbeddedStore::open(
    const std::filesystem::path& data_dir, bool fsync_each_batch, const core::Clock& clock,
    const token::TicketIdCodec& ids, const core::PassMinter& minter, ops::EventFeed* feed) {
  auto storage = EmbeddedStorage::open(data_dir, fsync_each_batch, clock, ids, feed);
  if (!storage) return std::unexpected(storage.error());
  return std::unique_ptr<EmbeddedStore>(new EmbeddedStore(std::move(*storage), clock, ids, minter));
}

EmbeddedStore::EmbeddedStore(std::unique_ptr<EmbeddedStorage> storage, const core::Clock& clock,
                             const token::TicketIdCodec& ids, const core::PassMinter& minter)
    : Store(std::move(storage), clock, ids, minter),
      embedded_(static_cast<EmbeddedStorage&>(this->storage())) {}

}  // namespace waitroom::store
