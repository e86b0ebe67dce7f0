#pragma once
// The default store: every room's state in memory, each change made durable in one log with group
// commit (durable_log.hpp). Reads never touch the disk; writes are acknowledged only once their
// record is durable, so an acknowledged enqueue, advance or pass survives kill -9.
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/clock.hpp"
#include <boost/json/object.hpp>

#include "store/embedded/durable_log.hpp"
#include "store/log_records.hpp"
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
                             core::SessionStatus status) override;
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
    // Grows with every change a ticket's status may show (Store::WatchedTicket). Starts at the
    // clock's milliseconds, so ids keep growing across restarts and a client's Last-Event-ID
    // from before a restart does not match by chance.
    std::uint64_t change_id = 0;
    std::uint64_t expired_sessions = 0;  // sessions found expired when listeners last heard
    Entry(std::string name, core::RoomSettings settings, std::int64_t now_ms)
        : room(std::move(name), std::move(settings)),
          change_id(static_cast<std::uint64_t>(now_ms)) {}
  };

  EmbeddedStore(std::unique_ptr<DurableLog> log, const core::Clock& clock,
                const token::TicketIdCodec& ids, const core::PassMinter& minter);
  core::Result<void> apply(const LogRecord& record);
  std::shared_ptr<Entry> find(const std::string& room) const;
  core::Result<std::pair<std::shared_ptr<Entry>, std::uint64_t>> find_ticket(
      const std::string& room, const std::string& ticket) const;
  // A change's answer and the record that makes it durable.
  template <class T>
  using Change = core::Result<std::pair<T, LogRecord>>;
  // Whether a change tells the room's listeners: always, or only when it moved the serving counter.
  enum class Notify { always, if_serving_moved };
  template <class T, class Apply>
  core::Result<std::pair<T, std::uint64_t>> change_room(const std::string& room, Notify notify,
                                                        Apply&& apply);
  // Appends a record whose request will wait for it with durable(), which wakes the writer.
  std::uint64_t append_record(const LogRecord& record);
  boost::asio::awaitable<bool> durable(std::uint64_t lsn);
  core::Result<void> writable() const;
  RoomView view_of(core::Room& room);
  void emit(const std::string& room, std::string_view type, boost::json::object data);
  void emit_step(core::Room& room, const core::Admissions& step);
  void emit_metrics(core::Room& room);
  // Under the entry's lock: a ticket's status may show something new; tells the listener.
  void note_change(Entry& entry);
  TicketView ticket_view(core::Room& room, std::uint64_t position,
                         std::optional<std::string> id = std::nullopt);

  std::unique_ptr<DurableLog> log_;
  const core::Clock& clock_;
  const token::TicketIdCodec& ids_;
  const core::PassMinter& minter_;
  std::uint64_t replayed_records_ = 0;
  std::atomic<std::int64_t> last_metrics_ms_{0};  // when waiting_room_metrics events last went out

  mutable std::shared_mutex rooms_mu_;  // guards the map; each room has its own lock
  std::map<std::string, std::shared_ptr<Entry>> rooms_;
  // The last epoch each room name used, kept after deletion so that a re-created room never
  // accepts tickets of the deleted one.
  std::unordered_map<std::string, std::uint32_t> last_epoch_;
};

}  // namespace waitroom::store
