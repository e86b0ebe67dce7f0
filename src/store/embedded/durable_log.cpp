#include "store/embedded/durable_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iterator>
#include <utility>

#include "ops/log.hpp"
#include "store/crc32c.hpp"

namespace waitroom::store {

namespace {
// In relaxed mode, how often written data is forced to disk: the power-loss window.
constexpr auto kRelaxedSyncInterval = std::chrono::seconds(1);
// After a failed write or sync, how often the writer tries again (e.g. until disk space returns).
constexpr auto kRetryInterval = std::chrono::seconds(1);
// The durable end is recorded in waitroom.log.end after every synced batch and before its requests
// are answered, so on any restart after kill -9 every acknowledged record lies before the mark and
// only never-acknowledged bytes can be cut as a torn tail (log_format.hpp). The mark is a 32-byte
// pwrite() into the page cache (about 1-2 us, against 250 us for the batch's fdatasync); it is
// synced only every kMarkSyncInterval, because a mark that lags after a power loss is still true
// (it claims less than is on disk), only less protective for the records written since.
constexpr auto kMarkSyncInterval = std::chrono::seconds(1);
constexpr std::size_t kMarkFileBytes = 2 * kMarkSlotBytes;

// The file is kept zero-filled ahead of the log's end, so that appending never grows it and the
// fdatasync() of each group commit flushes data only, not the file size through ext4's journal
// (measured here: 0.3-0.6 ms with spikes to 6 ms while growing, against about 0.25 ms). Replay
// takes zero-filled space after the last record for the log's end (log_format.hpp).
constexpr std::uint64_t kPreallocateBytes = 8 << 20;
constexpr std::size_t kZeroChunkBytes = 1 << 20;

bool pwrite_all(int fd, const char* p, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
  return true;
}

// Extends the zero-filled region so that `needed_end` fits, with room to spare: up to
// kPreallocateBytes, but never more than half of the free space, so that a small disk is not
// filled with zeros. If even that cannot be written it stops where it is: whether the batch fits
// is for the batch's own write to say (a 503 only when a record truly cannot be written).
void preallocate(int fd, std::uint64_t& allocated_end, std::uint64_t needed_end) {
  if (needed_end <= allocated_end) return;
  static const std::string zeros(kZeroChunkBytes, '\0');
  std::uint64_t ahead = kPreallocateBytes;
  struct statvfs vfs {};
  if (::fstatvfs(fd, &vfs) == 0)
    ahead =
        std::min<std::uint64_t>(ahead, static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize / 2);
  const std::uint64_t target = needed_end + ahead;
  while (allocated_end < target) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(kZeroChunkBytes, target - allocated_end));
    if (!pwrite_all(fd, zeros.data(), n, allocated_end)) return;
    allocated_end += n;
  }
}

}  // namespace

// A rewrite handed to the writer (see rewrite()).
struct DurableLog::Switch {
  int fd = -1;  // the new log, written and synced up to `offset`
  std::uint64_t offset = 0;
  std::uint64_t records = 0;
  std::uint64_t copied_to = 0;  // how far the old log is copied
  std::uint64_t next_lsn = 0;   // the lsn of the old log's record at copied_to
  // Every record appended before the hand-off: they are in the old log when the files switch, so
  // `keep` judges them (a snapshot may hold them already).
  std::uint64_t through_lsn = 0;
  bool v2 = false;  // the old log's framing at copied_to
  const Keep* keep = nullptr;
  bool done = false;
  core::Result<Rewritten> outcome;
};

core::Result<std::unique_ptr<DurableLog>> DurableLog::open(const std::filesystem::path& file,
                                                           bool fsync_each_batch) {
  // A compaction that did not finish: the log it would have replaced is still whole.
  std::error_code ignored;
  std::filesystem::remove(rewrite_path(file), ignored);
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return core::fail(core::ErrorCode::internal,
                      "cannot open " + file.string() + ": " + std::strerror(errno));
  // The mark file is sized once here, so that moving the mark never needs disk space.
  const int mark_fd = ::open(mark_path(file).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (mark_fd >= 0) {
    struct stat st {};
    if (::fstat(mark_fd, &st) == 0 && static_cast<std::size_t>(st.st_size) < kMarkFileBytes) {
      const std::string zeros(kMarkFileBytes - static_cast<std::size_t>(st.st_size), '\0');
      pwrite_all(mark_fd, zeros.data(), zeros.size(), static_cast<std::uint64_t>(st.st_size));
    }
  } else {
    ops::log_warn(
        "cannot open the log's durable-end mark; damage at the log's end cannot be told "
        "from a torn write",
        {{"file", mark_path(file).string()}, {"error", std::strerror(errno)}});
  }
  return std::unique_ptr<DurableLog>(new DurableLog(fd, mark_fd, file, fsync_each_batch));
}

DurableLog::DurableLog(int fd, int mark_fd, std::filesystem::path path, bool fsync_each_batch)
    : fd_(fd), mark_fd_(mark_fd), path_(std::move(path)), fsync_each_batch_(fsync_each_batch) {}

DurableLog::~DurableLog() {
  stop();
  ::close(fd_);
  if (mark_fd_ >= 0) ::close(mark_fd_);
}

bool DurableLog::write_mark(const DurableMark& mark, bool sync) {
  if (mark_fd_ < 0) return false;
  DurableMark m = mark;
  m.generation = ++mark_generation_;
  const std::string slot = encode_mark_slot(m);
  // A failure leaves the previous mark, which is still true (only less recent).
  if (!pwrite_all(mark_fd_, slot.data(), slot.size(), (m.generation % 2) * kMarkSlotBytes))
    return false;
  return !sync || ::fdatasync(mark_fd_) == 0;
}

core::Result<std::uint64_t> DurableLog::replay(
    const std::function<core::Result<void>(std::string_view)>& apply) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    return core::fail(core::ErrorCode::internal, "cannot stat " + path_.string());
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t r = ::pread(fd_, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return core::fail(core::ErrorCode::internal, "cannot read " + path_.string());
    got += static_cast<std::size_t>(r);
  }

  const DurableMark mark = read_mark(mark_path(path_));
  std::uint64_t records = 0;
  auto scan = scan_log(
      data, mark, [&](std::string_view payload, std::uint64_t offset) -> core::Result<void> {
        if (auto r = apply(payload); !r)
          return core::fail(core::ErrorCode::internal,
                            path_.string() + ": record " + std::to_string(records + 1) +
                                " at offset " + std::to_string(offset) + ": " + r.error().detail);
        ++records;
        return {};
      });
  if (!scan) return std::unexpected(scan.error());
  if (scan->outcome == LogScan::Outcome::damaged)
    return core::fail(core::ErrorCode::internal, describe_scan(*scan, path_, path_.parent_path()));
  if (scan->outcome == LogScan::Outcome::torn_tail)
    ops::log_warn("cut off a torn last write (never acknowledged) at the log's end",
                  {{"file", path_.string()},
                   {"offset", scan->intact_end},
                   {"bytes", scan->file_bytes - scan->intact_end},
                   {"records_kept", scan->records}});
  // Whatever follows the last intact record (zeros, or a torn write that was never
  // acknowledged) is cut off; the writer preallocates afresh.
  const std::uint64_t offset = scan->intact_end;
  if (offset != data.size()) {
    if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0 || ::fdatasync(fd_) != 0)
      return core::fail(core::ErrorCode::internal,
                        "cannot truncate torn tail of " + path_.string());
  }
  bytes_on_disk_ = offset;
  allocated_end_ = offset;
  next_sequence_ = scan->records + 1;
  v2_ = scan->v2;
  v2_on_disk_ = scan->v2;
  mark_generation_ = mark.generation;
  return records;
}

void DurableLog::start() {
  std::lock_guard lock(mu_);
  write_offset_ = bytes_on_disk_;
  if (writer_.joinable()) return;
  stopping_ = false;
  writer_ = std::thread([this] { writer_loop(); });
}

void DurableLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_writer_.notify_one();
  if (writer_.joinable()) writer_.join();
}

std::uint64_t DurableLog::append(std::string_view payload, bool wake_writer) {
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::unique_lock lock(mu_);
  const bool was_idle = pending_.empty();
  pending_.append(reinterpret_cast<const char*>(&length), sizeof length);
  pending_.append(payload);
  const std::uint64_t lsn = ++appended_lsn_;
  lock.unlock();
  if (was_idle && wake_writer) wake_writer_.notify_one();
  return lsn;
}

bool DurableLog::is_durable(std::uint64_t lsn) const {
  std::lock_guard lock(mu_);
  return durable_lsn_ >= lsn && !failed_;
}

bool DurableLog::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

std::uint64_t DurableLog::bytes_on_disk() const {
  std::lock_guard lock(mu_);
  return bytes_on_disk_;
}

void DurableLog::add_waiter(std::uint64_t lsn, boost::asio::any_io_executor ex,
                            boost::asio::any_completion_handler<void(bool)> handler) {
  std::unique_lock lock(mu_);
  if (durable_lsn_ >= lsn || failed_) {
    const bool ok = !failed_ && durable_lsn_ >= lsn;
    lock.unlock();
    std::vector<Waiter> ready;
    ready.push_back(Waiter{lsn, std::move(ex), std::move(handler)});
    complete(ready, ok);
    return;
  }
  waiters_.push_back(Waiter{lsn, ex, std::move(handler)});
  lock.unlock();
  // Wake the writer from the back of this I/O thread's queue: by the time it runs, the requests
  // that were already readable have appended their records too, and share this group commit.
  if (!kick_posted_.exchange(true)) {
    boost::asio::post(ex, [this] {
      kick_posted_ = false;
      wake_writer_.notify_one();
    });
  }
}

// One post per executor (I/O thread) for the whole batch, not one per request: each post from
// this thread may have to wake that thread's reactor.
void DurableLog::complete(std::vector<Waiter>& ready, bool ok) {
  using Handler = boost::asio::any_completion_handler<void(bool)>;
  std::vector<std::pair<boost::asio::any_io_executor, std::vector<Handler>>> by_executor;
  for (Waiter& w : ready) {
    auto it = std::find_if(by_executor.begin(), by_executor.end(),
                           [&](const auto& e) { return e.first == w.executor; });
    if (it == by_executor.end()) {
      by_executor.emplace_back(w.executor, std::vector<Handler>{});
      it = std::prev(by_executor.end());
    }
    it->second.push_back(std::move(w.handler));
  }
  ready.clear();
  for (auto& [executor, handlers] : by_executor) {
    boost::asio::post(executor, [hs = std::move(handlers), ok]() mutable {
      for (Handler& h : hs) std::move(h)(ok);
    });
  }
}

// Group commit: everything appended while the previous batch was being written goes out in one
// write() and one fdatasync(), then every request waiting on it is completed.
//
// A failed write or sync (ENOSPC, EIO) fails the waiting requests (503, nothing acknowledged)
// but keeps the batch: the records are already applied in memory, so memory and disk would part
// if they were dropped. The writer rewrites the kept batch and what came after it, at the same
// offset, every kRetryInterval; the rewrite also re-dirties pages a failed fsync may have
// dropped. When it succeeds the log is writable again.
void DurableLog::writer_loop() {
  std::string batch;
  std::string raw;
  std::vector<Waiter> ready;
  WriterState state;
  state.last_sync = state.last_failure = state.last_mark_sync = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  for (;;) {
    const auto wanted = [&] { return !pending_.empty() || stopping_ || switch_ != nullptr; };
    if (failed_) {
      wake_writer_.wait_until(lock, state.last_failure + kRetryInterval, [&] { return stopping_; });
    } else if (fsync_each_batch_ || !state.dirty) {
      wake_writer_.wait(lock, wanted);
    } else {
      wake_writer_.wait_until(lock, state.last_sync + kRelaxedSyncInterval, wanted);
    }
    if (pending_.empty() && batch.empty() && stopping_ && !state.dirty) break;

    raw.swap(pending_);  // after a failure `batch` still holds the unwritten records
    const std::uint64_t batch_lsn = appended_lsn_;
    const bool force_sync = stopping_ || failed_;
    lock.unlock();
    frame_into(batch, raw);
    raw.clear();
    const int error = write_and_sync(batch, next_sequence_ - 1, force_sync, state);
    lock.lock();
    settle(error, batch, batch_lsn, state, ready);
    const bool all_ok = !failed_;
    lock.unlock();
    complete(ready, all_ok);
    lock.lock();
    if (switch_ && (failed_ || stopping_ || durable_lsn_ >= switch_->through_lsn)) {
      Switch& sw = *switch_;
      if (!failed_ && !stopping_) {
        lock.unlock();
        switch_files(sw);
        lock.lock();
        bytes_on_disk_ = write_offset_;
        v2_on_disk_ = v2_;
      } else {
        sw.outcome = core::fail(core::ErrorCode::unavailable, "the log is failing or stopping");
      }
      sw.done = true;
      switch_ = nullptr;
      switched_.notify_all();
    }
    if (stopping_ && failed_) break;  // one last try was made; unacknowledged records are lost
    if (stopping_ && pending_.empty() && batch.empty() && !state.dirty) break;
  }
  if (switch_) {  // stopped (or failing) before the rewrite's turn: the old log stays
    switch_->outcome = core::fail(core::ErrorCode::unavailable, "the log stopped or failed");
    switch_->done = true;
    switch_ = nullptr;
    switched_.notify_all();
  }
}

void DurableLog::frame_into(std::string& batch, std::string_view raw) {
  if (!raw.empty() && !v2_) {
    // A new log, or the first append to a log written before version 2 (log_format.hpp).
    append_v1_frame(batch, kFramingMarker);
    v2_ = true;
  }
  while (!raw.empty()) {
    std::uint32_t length = 0;
    std::memcpy(&length, raw.data(), sizeof length);
    append_v2_frame(batch, raw.substr(sizeof length, length), next_sequence_++);
    raw.remove_prefix(sizeof length + length);
  }
}

int DurableLog::write_and_sync(const std::string& batch, std::uint64_t batch_records,
                               bool force_sync, WriterState& state) {
  if (write_delay_.count() > 0 && !batch.empty()) std::this_thread::sleep_for(write_delay_);
  bool ok = true;
  if (!batch.empty()) {
    const std::uint64_t at = write_offset_;
    preallocate(fd_, allocated_end_, at + batch.size());
    ok = pwrite_all(fd_, batch.data(), batch.size(), at);
    state.dirty = true;
  }
  int error = ok ? 0 : errno;
  const auto now = std::chrono::steady_clock::now();
  state.now = now;
  if (ok && state.dirty &&
      (fsync_each_batch_ || force_sync || now - state.last_sync >= kRelaxedSyncInterval)) {
    state.last_sync = now;
    if (::fdatasync(fd_) != 0) return errno;
    state.dirty = false;
    const bool sync_mark = force_sync || now - state.last_mark_sync >= kMarkSyncInterval;
    if (write_mark(DurableMark{write_offset_ + batch.size(), batch_records, 0}, sync_mark) &&
        sync_mark)
      state.last_mark_sync = now;
  }
  return error;
}

void DurableLog::settle(int error, std::string& batch, std::uint64_t batch_lsn, WriterState& state,
                        std::vector<Waiter>& ready) {
  if (error != 0) {
    if (!failed_)
      ops::log_error("the log cannot be written; refusing changes until it can",
                     {{"file", path_.string()}, {"error", std::strerror(error)}});
    failed_ = true;
    state.last_failure = state.now;
  } else {
    if (failed_) ops::log_info("the log is writable again", {{"file", path_.string()}});
    failed_ = false;
    if (!batch.empty()) {
      write_offset_ += batch.size();
      bytes_on_disk_ += batch.size();
      v2_on_disk_ = v2_;
      batch.clear();
    }
    durable_lsn_ = batch_lsn;  // written (relaxed mode's acknowledgement) or written and synced
  }
  // Completes what is now durable (everyone, with `false`, if the log failed). Waiters are only
  // ever move-constructed, never move-assigned: Boost 1.81's any_completion_handler move
  // assignment copies itself recursively (fixed in 1.82), so no std::partition or erase here.
  std::vector<Waiter> keep;
  for (Waiter& w : waiters_) {
    if (failed_ || w.lsn <= durable_lsn_)
      ready.push_back(std::move(w));
    else
      keep.push_back(std::move(w));
  }
  waiters_.swap(keep);
}

// ---- compaction ------------------------------------------------------------------------------

namespace {
core::Error io_error(const std::string& what, const std::filesystem::path& file) {
  return core::Error{core::ErrorCode::internal,
                     what + " " + file.string() + ": " + std::strerror(errno), 0};
}

core::Result<std::string> read_range(int fd, std::uint64_t from, std::uint64_t to,
                                     const std::filesystem::path& file) {
  std::string data(static_cast<std::size_t>(to - from), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t r =
        ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(from + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::unexpected(io_error("cannot read", file));
    got += static_cast<std::size_t>(r);
  }
  return data;
}

bool sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}
}  // namespace

core::Result<void> DurableLog::append_to_new(Switch& sw, const std::string& frames) {
  if (!pwrite_all(sw.fd, frames.data(), frames.size(), sw.offset))
    return std::unexpected(io_error("cannot write", rewrite_path(path_)));
  sw.offset += frames.size();
  return {};
}

// The old log's records from sw.copied_to up to `to` (a batch boundary: record `to_lsn` ends
// there) that `keep` accepts go to the new log's end, numbered on from its records.
core::Result<void> DurableLog::copy_written(Switch& sw, std::uint64_t to, std::uint64_t to_lsn) {
  if (to <= sw.copied_to) return {};
  auto data = read_range(fd_, sw.copied_to, to, path_);
  if (!data) return std::unexpected(data.error());
  std::string frames;
  auto v2 = for_each_written_record(*data, sw.v2, [&](std::string_view payload) {
    if ((*sw.keep)(sw.next_lsn, payload)) append_v2_frame(frames, payload, ++sw.records);
    ++sw.next_lsn;
  });
  if (!v2) return std::unexpected(v2.error());
  if (sw.next_lsn != to_lsn + 1)
    return core::fail(core::ErrorCode::internal,
                      "the log's records and numbers parted under compaction (record " +
                          std::to_string(sw.next_lsn - 1) + " where " + std::to_string(to_lsn) +
                          " belongs)");
  sw.v2 = *v2;
  sw.copied_to = to;
  return append_to_new(sw, frames);
}

// The writer's turn of a rewrite: the last records are copied, and the new log takes the old
// one's name. While it runs, appends gather for the next batch (framed with the new numbers).
void DurableLog::switch_files(Switch& sw) {
  const std::filesystem::path tmp = rewrite_path(path_);
  auto copied = copy_written(sw, write_offset_, durable_lsn_);
  if (copied && ::fdatasync(sw.fd) != 0) copied = std::unexpected(io_error("cannot sync", tmp));
  if (!copied) {
    sw.outcome = std::unexpected(copied.error());
    return;
  }
  // No mark while the name changes hands: a zero mark claims nothing of either file.
  write_mark(DurableMark{}, true);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    sw.outcome = std::unexpected(io_error("cannot rename", tmp));
    write_mark(DurableMark{write_offset_, next_sequence_ - 1, 0}, true);
    return;
  }
  const std::filesystem::path dir = path_.has_parent_path() ? path_.parent_path() : ".";
  if (!sync_directory(dir))
    ops::log_warn(
        "cannot sync the data directory after compaction; a power loss may bring "
        "back the old log (which is whole)",
        {{"dir", dir.string()}, {"error", std::strerror(errno)}});
  sw.outcome = Rewritten{write_offset_, sw.offset, next_sequence_ - 1, sw.records};
  ::close(fd_);
  fd_ = std::exchange(sw.fd, -1);
  write_offset_ = sw.offset;
  allocated_end_ = sw.offset;
  next_sequence_ = sw.records + 1;
  v2_ = true;
  write_mark(DurableMark{write_offset_, sw.records, 0}, true);
}

DurableLog::Cut DurableLog::cut() const {
  std::lock_guard lock(mu_);
  return Cut{durable_lsn_, bytes_on_disk_, v2_on_disk_};
}

core::Result<DurableLog::Rewritten> DurableLog::rewrite(Cut cut,
                                                        const std::vector<std::string>& head,
                                                        const Keep& keep) {
  {
    std::lock_guard lock(mu_);
    if (rewriting_) return core::fail(core::ErrorCode::conflict, "a compaction is running already");
    if (failed_) return core::fail(core::ErrorCode::unavailable, "the log cannot be written");
    rewriting_ = true;
  }
  struct Done {
    DurableLog& log;
    ~Done() {
      std::lock_guard lock(log.mu_);
      log.rewriting_ = false;
    }
  } done{*this};
  const std::filesystem::path tmp = rewrite_path(path_);
  Switch sw;
  sw.fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (sw.fd < 0) return std::unexpected(io_error("cannot create", tmp));
  sw.keep = &keep;
  sw.copied_to = cut.offset;
  sw.next_lsn = cut.lsn + 1;
  sw.v2 = cut.v2;
  std::string out;
  append_v1_frame(out, kFramingMarker);
  for (const std::string& payload : head) append_v2_frame(out, payload, ++sw.records);
  core::Result<void> written = append_to_new(sw, out);
  // What the writer wrote meanwhile is copied here, a few rounds, so that its own turn has little.
  for (int round = 0; written && round < 8; ++round) {
    const Cut now = this->cut();
    if (now.offset - sw.copied_to < (1 << 20) && round > 0) break;
    written = copy_written(sw, now.offset, now.lsn);
  }
  if (written && ::fdatasync(sw.fd) != 0) written = std::unexpected(io_error("cannot sync", tmp));
  if (written) {
    std::unique_lock lock(mu_);
    sw.through_lsn = appended_lsn_;
    switch_ = &sw;
    wake_writer_.notify_one();
    switched_.wait(lock, [&] { return sw.done; });
    if (sw.outcome) return sw.outcome;  // the new log is the log now
    written = std::unexpected(sw.outcome.error());
  }
  if (sw.fd >= 0) ::close(sw.fd);
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  return std::unexpected(written.error());
}

}  // namespace waitroom::store
