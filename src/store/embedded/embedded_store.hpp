#pragma once
// The default store: every room's state in memory, each change made durable in one log with group
// commit (durable_log.hpp). Reads never touch the disk; writes are acknowledged only once their
// record is durable, so an acknowledged enqueue, advance or pass survives kill -9.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/clock.hpp"
#include "engine/log_records.hpp"
#include "engine/room_ops.hpp"
#include "store/embedded/durable_log.hpp"
#include "store/store.hpp"
#include "token/ticket_id.hpp"

namespace waitroom::store {

class EmbeddedStore final : public Store {
 public:
  // Opens (or creates) `data_dir`/waitroom.log and replays it. Call start() before serving.
  static core::Result<std::unique_ptr<EmbeddedStore>> open(const std::filesystem::path& data_dir,
                                                           bool fsync_each_batch,
                                                           const core::Clock& clock,
                                                           const token::TicketIdCodec& ids,
                                                           const core::PassMinter& minter);
  ~EmbeddedStore() override;

  void start() { log_->start(); }
  void set_log_write_delay(std::chrono::milliseconds delay) { log_->set_write_delay(delay); }
  void stop() override { log_->stop(); }
  std::uint64_t replayed_records() const override { return replayed_records_; }

  Op<EnqueueResult> enqueue(std::string room, std::optional<std::string> existing,
                            bool tracks_presence) override;
  Op<TicketView> ticket(std::string room, std::string ticket) override;
  Op<WatchedTicket> watch_ticket(std::string room, std::string ticket) override;
  Op<TicketStates> ticket_states(std::string room,
                                 std::span<const std::uint64_t> positions) override;
  Op<PassView> issue_pass(std::string room, std::string ticket, PassOptions options) override;
  Op<PassCheck> check_pass(std::string room, std::string ticket, std::string pass) override;
  Op<PassView> renew_pass(std::string room, std::string ticket, std::string binding) override;
  Op<RoomView> room(std::string room) override;
  Op<core::PassCookie> pass_cookie(std::string room) override;
  Op<std::vector<RoomView>> rooms() override;
  Op<std::pair<RoomView, bool>> put_room(std::string room, SettingsUpdate update) override;
  Op<void> delete_room(std::string room) override;
  Op<std::uint64_t> advance(std::string room, Advance advance) override;
  Op<RoomView> set_paused(std::string room, bool paused) override;
  Op<RoomView> reset(std::string room) override;
  Op<TicketView> end_session(std::string room, std::string ticket,
                             core::TicketStatus status) override;
  Op<std::vector<std::string>> expired_tickets(std::string room) override;
  Op<AdmissionsPage> admissions(std::string room, std::uint64_t from, std::uint64_t limit) override;
  void drive_admissions() override;
  bool ready() const override { return !log_->failed(); }

  // Appends `count` tickets to `room` without going through HTTP: used by
  // `waitroom bench-fill` to build large data sets for the memory and restart benchmarks.
  core::Result<void> fill(const std::string& room, std::uint64_t count);

 private:
  struct Entry {
    std::mutex mu;
    core::Room room;
    bool deleted = false;  // set under `mu` so no record follows the room's delete record
    // Grows with every committed change a ticket's status may show (Store::WatchedTicket).
    // Starts at the clock's milliseconds, so ids keep growing across restarts and a client's
    // Last-Event-ID from before a restart does not match by chance.
    std::uint64_t change_id = 0;
    std::uint64_t expired_sessions = 0;  // sessions found expired when listeners last heard
    Entry(core::Room r, std::int64_t now_ms)
        : room(std::move(r)), change_id(static_cast<std::uint64_t>(now_ms)) {}
  };
  // What a change may tell once its records are durable: the log is the outbox.
  struct Announcement {
    std::shared_ptr<Entry> entry;
    std::vector<ops::Event> events;
    bool changed = false;
  };

  EmbeddedStore(std::unique_ptr<DurableLog> log, const core::Clock& clock,
                const token::TicketIdCodec& ids, const core::PassMinter& minter);
  core::Result<void> apply(const engine::LogRecord& record);
  std::shared_ptr<Entry> find(const std::string& room) const;
  core::Result<std::pair<std::shared_ptr<Entry>, std::uint64_t>> find_ticket(
      const std::string& room, const std::string& ticket) const;
  engine::OpContext context() const { return engine::OpContext{clock_, ids_, nullptr}; }
  engine::Effects effects() const { return engine::Effects(events_ != nullptr); }
  // Under the room's lock: a room operation on it, whose records are appended in the order the
  // room's changes happen. Returns the answer and the log sequence number to wait for.
  template <class T, class Operation>
  core::Result<std::pair<T, std::uint64_t>> change_room(const std::string& room, Operation&& op);
  // Under the room's lock: appends the effects' records and keeps what they announce until they
  // are durable. Returns the lsn that makes them so.
  std::uint64_t commit(const std::shared_ptr<Entry>& entry, engine::Effects&& fx);
  // Waits until `lsn` is durable, then announces what became durable; false if the log failed.
  boost::asio::awaitable<bool> durable(std::uint64_t lsn);
  // Publishes, in log order, what every durable change announces (any thread).
  void announce_durable();
  core::Result<void> writable() const;
  RoomView view_of(core::Room& room);
  using PassPlanner = std::function<core::Result<engine::PassPlan>(core::Room&, std::uint64_t)>;
  using PassRecorder = std::function<core::Result<PassView>(core::Room&, const core::PassRequest&,
                                                            const std::string&, engine::Effects&)>;
  Op<PassView> hand_out_pass(std::string room, std::string ticket, PassPlanner plan,
                             PassRecorder record, std::string_view gone);

  std::unique_ptr<DurableLog> log_;
  const core::Clock& clock_;
  const token::TicketIdCodec& ids_;
  const core::PassMinter& minter_;
  std::uint64_t replayed_records_ = 0;
  std::atomic<std::uint64_t> appended_{0};  // the highest lsn appended (a pass already issued
                                            // is handed out again only once this is durable)
  std::mutex outbox_mu_;
  std::multimap<std::uint64_t, Announcement> outbox_;  // by lsn; published once durable
  std::mutex announce_mu_;  // one announcer at a time, so announcements leave in log order
  std::atomic<std::int64_t> last_metrics_ms_{0};  // when waiting_room_metrics events last went out

  mutable std::shared_mutex rooms_mu_;  // guards the map; each room has its own lock
  std::map<std::string, std::shared_ptr<Entry>> rooms_;
  // The last epoch each room name used, kept after deletion so that a re-created room never
  // accepts tickets of the deleted one.
  std::unordered_map<std::string, std::uint32_t> last_epoch_;
};

}  // namespace waitroom::store
