#pragma once
// Where the rooms' minutes (minute_history.hpp) are kept for [dashboard] history_days, so that
// the dashboard's day and week charts survive restarts. The sampler (history_sampler.hpp) writes
// through this interface and /admin/v1/rooms/{room}/history reads through it, neither knowing
// the store: the embedded store keeps files in its data dir (history_file_archive.hpp), the
// Redis store keeps them in Redis, shared by every node (redis/redis_history_archive.hpp).
//
// Minutes are kept by UTC day: a day older than history_days (counted from the current day) is
// dropped whole. Writes are idempotent: a room's minute that is already kept stays as it is, so a
// retry, or several nodes writing the same room, keep one copy.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "store/minute_history.hpp"

namespace waitroom::store {

struct RoomMinute {
  std::string room;
  MinuteAggregate minute;
};

class HistoryArchive {
 public:
  explicit HistoryArchive(int history_days) : history_days_(history_days) {}
  virtual ~HistoryArchive() = default;
  HistoryArchive(const HistoryArchive&) = delete;
  HistoryArchive& operator=(const HistoryArchive&) = delete;

  // Keeps each minute, unless its room's minute is kept already.
  virtual core::Result<void> append(const std::vector<RoomMinute>& minutes) = 0;
  // The room's minutes that start in [from_ms, to_ms), oldest first, one per minute.
  virtual core::Result<std::vector<MinuteAggregate>> read(std::string_view room,
                                                          std::int64_t from_ms,
                                                          std::int64_t to_ms) = 0;
  // The room was deleted (as of `now_ms`): its minutes go.
  virtual core::Result<void> forget(std::string_view room, std::int64_t now_ms) = 0;
  // Drops the days older than the retention as of `now_ms`, and the minutes of rooms not in
  // `rooms` (deleted while nobody watched) where the archive can list them.
  virtual core::Result<void> prune(std::int64_t now_ms, const std::vector<std::string>& rooms) = 0;

  // The newest minute kept of the room that starts before `now_ms`, looking back to the start of
  // the previous day (an older one is no base to count the next minute from); nullopt if none.
  core::Result<std::optional<MinuteAggregate>> latest(std::string_view room, std::int64_t now_ms);

  int history_days() const { return history_days_; }
  // The start of the oldest day kept as of `now_ms`: minutes before it are gone or going.
  std::int64_t kept_from_ms(std::int64_t now_ms) const {
    return day_of(now_ms) - static_cast<std::int64_t>(history_days_) * kMsPerDay;
  }

 private:
  const int history_days_;
};

}  // namespace waitroom::store
