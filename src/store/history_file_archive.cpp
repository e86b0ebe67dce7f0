#include "store/history_file_archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/rfc3339.hpp"
#include "store/minute_record.hpp"

namespace waitroom::store {

namespace fs = std::filesystem;
using core::ErrorCode;

namespace {

constexpr std::string_view kDayFileSuffix = ".log";
constexpr std::size_t kDateChars = 10;  // YYYY-MM-DD

core::Result<void> io_error(const fs::path& path, std::string_view what) {
  return core::fail(ErrorCode::internal,
                    std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

std::string date_of(std::int64_t at_ms) {
  return core::format_rfc3339(day_of(at_ms) / 1000).substr(0, kDateChars);
}

// The day a file name stands for, in ms; nullopt for a file that is not a day's.
std::optional<std::int64_t> day_of_file(const fs::path& file) {
  const std::string name = file.filename().string();
  if (name.size() != kDateChars + kDayFileSuffix.size() || !name.ends_with(kDayFileSuffix))
    return std::nullopt;
  auto s = core::parse_rfc3339(name.substr(0, kDateChars) + "T00:00:00Z");
  if (!s) return std::nullopt;
  return *s * 1000;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A crash mid-append leaves a last line without its end; it is cut off, or the next line would
// be glued to it.
bool cut_torn_tail(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  if (st.st_size == 0) return true;
  char last = '\n';
  if (::pread(fd, &last, 1, st.st_size - 1) != 1) return false;
  if (last == '\n') return true;
  std::string content(static_cast<std::size_t>(st.st_size), '\0');
  if (::pread(fd, content.data(), content.size(), 0) != st.st_size) return false;
  const std::size_t end = content.rfind('\n');
  return ::ftruncate(fd, end == std::string::npos ? 0 : static_cast<off_t>(end + 1)) == 0;
}

core::Result<void> append_lines(const fs::path& file, std::string_view lines) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return core::fail(ErrorCode::internal, "cannot create " + file.parent_path().string());
  // Read too: the torn-tail check reads the last line.
  const int fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(file, "cannot open");
  // Synced at once: a minute is written once a minute per room, so this is the periodic sync.
  const bool ok = cut_torn_tail(fd) && write_all(fd, lines) && ::fdatasync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return io_error(file, "cannot append to");
  return {};
}

// Every minute the file holds in [from_ms, to_ms), into `out` unless a copy is there already.
void read_day(const fs::path& file, std::int64_t from_ms, std::int64_t to_ms,
              std::map<std::int64_t, MinuteAggregate>& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  std::size_t at = 0;
  // Only whole lines: a last one without its end is torn.
  for (std::size_t end; (end = content.find('\n', at)) != std::string::npos; at = end + 1) {
    auto m = decode_minute(std::string_view(content).substr(at, end - at));
    if (m && m->minute_ms >= from_ms && m->minute_ms < to_ms) out.try_emplace(m->minute_ms, *m);
  }
}

}  // namespace

HistoryFileArchive::HistoryFileArchive(fs::path dir, int history_days)
    : HistoryArchive(history_days), dir_(std::move(dir)) {}

fs::path HistoryFileArchive::day_file(std::string_view room, std::int64_t at_ms) const {
  return dir_ / std::string(room) / (date_of(at_ms) + std::string(kDayFileSuffix));
}

core::Result<void> HistoryFileArchive::append(const std::vector<RoomMinute>& minutes) {
  std::lock_guard lock(mu_);
  std::map<fs::path, std::string> lines;  // by file, in order
  std::map<std::string, std::int64_t, std::less<>> newest = newest_;
  for (const RoomMinute& rm : minutes) {
    auto it = newest.find(rm.room);
    if (it != newest.end() && rm.minute.minute_ms <= it->second) continue;
    newest[rm.room] = rm.minute.minute_ms;
    std::string& text = lines[day_file(rm.room, rm.minute.minute_ms)];
    text += encode_minute(rm.minute);
    text += '\n';
  }
  for (const auto& [file, text] : lines)
    if (auto r = append_lines(file, text); !r) return r;
  newest_ = std::move(newest);
  return {};
}

core::Result<std::vector<MinuteAggregate>> HistoryFileArchive::read(std::string_view room,
                                                                    std::int64_t from_ms,
                                                                    std::int64_t to_ms) {
  std::vector<MinuteAggregate> out;
  if (to_ms <= from_ms) return out;
  std::map<std::int64_t, MinuteAggregate> found;
  for (std::int64_t day = day_of(from_ms); day < to_ms; day += kMsPerDay)
    read_day(day_file(room, day), from_ms, to_ms, found);
  out.reserve(found.size());
  for (auto& [minute, m] : found) out.push_back(std::move(m));
  return out;
}

core::Result<void> HistoryFileArchive::forget(std::string_view room, std::int64_t) {
  std::lock_guard lock(mu_);
  std::error_code ec;
  fs::remove_all(dir_ / std::string(room), ec);
  if (auto it = newest_.find(room); it != newest_.end()) newest_.erase(it);
  if (ec)
    return core::fail(ErrorCode::internal, "cannot remove the history of room " +
                                               std::string(room) + ": " + ec.message());
  return {};
}

core::Result<void> HistoryFileArchive::prune(std::int64_t now_ms,
                                             const std::vector<std::string>& rooms) {
  std::lock_guard lock(mu_);
  const std::set<std::string, std::less<>> listed(rooms.begin(), rooms.end());
  const std::int64_t kept_from = kept_from_ms(now_ms);
  std::error_code ec;
  std::vector<fs::path> gone;
  for (const auto& room_dir : fs::directory_iterator(dir_, ec)) {
    if (!room_dir.is_directory(ec)) continue;
    if (!listed.contains(room_dir.path().filename().string())) {
      gone.push_back(room_dir.path());
      continue;
    }
    for (const auto& file : fs::directory_iterator(room_dir.path(), ec)) {
      auto day = day_of_file(file.path());
      if (day && *day < kept_from) gone.push_back(file.path());
    }
  }
  for (const fs::path& p : gone) {
    std::error_code rec;
    fs::remove_all(p, rec);
    if (rec) return core::fail(ErrorCode::internal, "cannot remove " + p.string());
  }
  return {};
}

}  // namespace waitroom::store
