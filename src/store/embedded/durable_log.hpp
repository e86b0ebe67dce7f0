#pragma once
// An append-only log of checksummed records with group commit.
//
// Why our own log rather than SQLite (DESIGN.md section 4 asked us to choose by measurement):
// every state change of a room is a small record appended in order, and start-up replays them.
// A log makes an enqueue one memcpy into the pending batch, and one write()+fdatasync() covers
// every request that arrived while the previous batch was on its way to disk. Replay reads the
// file sequentially (10M tickets in well under the 10 s target, see BENCHMARKS.md); SQLite would
// add a B-tree insert per row and a second copy of state we already keep in memory.
//
// Framing and the torn-tail rule: see log_format.hpp. In short, a record that fails its checks
// is cut off at start-up only when nothing intact follows it and it lies past the durable end last
// recorded in waitroom.log.end; anything else is damage, and replay() refuses (the store does not
// open) with a report that says where, how many records come before and after, and what to do.
//
// Durability modes:
//   fsync   — a record is acknowledged only after fdatasync() returned for its batch: it survives
//             kill -9 and power loss.
//   relaxed — acknowledged after write() (survives kill -9, since the page cache outlives the
//             process); fdatasync() runs once a second, so power loss can lose up to ~1 s.
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "store/embedded/log_format.hpp"

namespace waitroom::store {

class DurableLog {
 public:
  static core::Result<std::unique_ptr<DurableLog>> open(const std::filesystem::path& file,
                                                        bool fsync_each_batch);
  ~DurableLog();
  DurableLog(const DurableLog&) = delete;
  DurableLog& operator=(const DurableLog&) = delete;

  // Calls `apply` for every intact record in order and cuts off a torn tail; refuses a damaged
  // log (log_format.hpp), changing nothing. Call once, before start(). Returns the number of
  // records applied.
  core::Result<std::uint64_t> replay(
      const std::function<core::Result<void>(std::string_view)>& apply);

  // Starts the writer thread. stop() writes and syncs what is pending, then joins it.
  void start();
  void stop();

  // Queues a record; thread-safe and cheap (a copy into the pending batch). Returns its log
  // sequence number: wait for it with async_wait() before acknowledging the change.
  // With `wake_writer` false the writer is woken by the async_wait() that follows instead (see
  // add_waiter), which lets the I/O thread finish its burst of requests first: fuller batches.
  std::uint64_t append(std::string_view payload, bool wake_writer = true);

  bool is_durable(std::uint64_t lsn) const;

  // ---- compaction (the store decides what is kept: embedded_store.cpp) ----
  // A batch boundary: the records up to `lsn` end at `offset` of the file; `v2` is the framing in
  // force there.
  struct Cut {
    std::uint64_t lsn = 0;
    std::uint64_t offset = 0;
    bool v2 = false;
  };
  Cut cut() const;
  // Decides whether a record written after the cut is kept in the rewritten log; called on the
  // caller's thread and on the writer's.
  using Keep = std::function<bool(std::uint64_t lsn, std::string_view payload)>;
  struct Rewritten {
    std::uint64_t bytes_before = 0, bytes_after = 0;
    std::uint64_t records_before = 0, records_after = 0;
  };
  // Replaces the log with a new one: `head` (payloads, in order), then the records after `cut`
  // that `keep` accepts. The new file is written and synced beside the log while requests go on;
  // the writer then copies what came last and renames it over the log between two of its batches
  // (about a commit's time). A crash at any moment leaves the old log or the new one, both whole.
  // Blocks the calling thread; one at a time.
  core::Result<Rewritten> rewrite(Cut cut, const std::vector<std::string>& head, const Keep& keep);
  // True while writes fail (a full or failing disk): changes are refused (503) rather than
  // acknowledged. The writer keeps the unwritten records and retries every second; once a write
  // and sync succeed the log is writable again by itself.
  bool failed() const;
  std::uint64_t bytes_on_disk() const;
  // Test-only ([testing] log_write_delay_ms): the writer waits this long before writing each
  // batch, which widens the window between a change and its durability for crash tests.
  void set_write_delay(std::chrono::milliseconds delay) { write_delay_ = delay; }

  // Completes with `true` when record `lsn` is durable, `false` if the log failed first. The
  // handler runs on its own associated executor, never on the writer thread.
  template <class Token>
  auto async_wait(std::uint64_t lsn, Token&& token) {
    return boost::asio::async_initiate<Token, void(bool)>(
        [this, lsn](auto handler) {
          // Tracked: the waiting request counts as outstanding work, so its io_context keeps
          // running until the writer thread completes it.
          boost::asio::any_io_executor ex =
              boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                  boost::asio::execution::outstanding_work.tracked);
          add_waiter(lsn, std::move(ex),
                     boost::asio::any_completion_handler<void(bool)>(std::move(handler)));
        },
        token);
  }

 private:
  struct Waiter {
    std::uint64_t lsn;
    boost::asio::any_io_executor executor;
    boost::asio::any_completion_handler<void(bool)> handler;
  };

  DurableLog(int fd, int mark_fd, std::filesystem::path path, bool fsync_each_batch);
  // Records that the log is on disk up to `mark` (writer thread, after a sync).
  bool write_mark(const DurableMark& mark, bool sync);
  void add_waiter(std::uint64_t lsn, boost::asio::any_io_executor ex,
                  boost::asio::any_completion_handler<void(bool)> handler);
  // The writer thread's own bookkeeping between turns.
  struct WriterState {
    std::chrono::steady_clock::time_point last_sync, last_failure, last_mark_sync, now;
    bool dirty = false;  // relaxed mode: written but not yet synced
  };
  void writer_loop();
  // The writer's part of rewrite(), between two batches (writer thread, without the lock).
  struct Switch;
  void switch_files(Switch& sw);
  core::Result<void> append_to_new(Switch& sw, const std::string& frames);
  core::Result<void> copy_written(Switch& sw, std::uint64_t to, std::uint64_t to_lsn);
  // Frames the records appended since the last batch (writer thread).
  void frame_into(std::string& batch, std::string_view raw);
  // One turn's I/O, without the lock: writes `batch` at the end and syncs it when due (each batch,
  // or once a second in relaxed mode, and always when `force_sync`). 0, or the errno that failed.
  int write_and_sync(const std::string& batch, std::uint64_t batch_records, bool force_sync,
                     WriterState& state);
  // Under the lock: takes in the turn's outcome and moves the waiters it completes to `ready`.
  void settle(int error, std::string& batch, std::uint64_t batch_lsn, WriterState& state,
              std::vector<Waiter>& ready);
  static void complete(std::vector<Waiter>& ready, bool ok);

  int fd_;
  int mark_fd_;  // waitroom.log.end, -1 if it could not be opened (the mark is then never moved)
  std::filesystem::path path_;
  bool fsync_each_batch_;
  std::chrono::milliseconds write_delay_{0};  // set before start()

  mutable std::mutex mu_;
  std::condition_variable wake_writer_;
  // Records appended and not yet taken by the writer, each as [u32 length][payload]: the writer
  // frames them, so that it alone numbers them (and can number them anew after a compaction).
  std::string pending_;
  std::uint64_t appended_lsn_ = 0;
  std::uint64_t durable_lsn_ = 0;
  std::uint64_t bytes_on_disk_ = 0;  // the log's logical end (the file is longer: zeros)
  bool v2_on_disk_ = false;          // the framing marker lies before bytes_on_disk_
  Switch* switch_ = nullptr;         // a rewrite waiting for the writer
  std::condition_variable switched_;
  bool rewriting_ = false;
  // Writer thread only (and replay, before it starts):
  std::uint64_t next_sequence_ = 1;  // the v2 frame number of the next record
  bool v2_ = false;                  // the framing marker is written (or in the batch)
  std::uint64_t write_offset_ = 0;
  std::uint64_t allocated_end_ = 0;
  bool failed_ = false;
  bool stopping_ = false;
  std::uint64_t mark_generation_ = 0;
  std::vector<Waiter> waiters_;  // see writer_loop() on why these are never move-assigned
  std::atomic<bool> kick_posted_{false};
  std::thread writer_;
};

}  // namespace waitroom::store
