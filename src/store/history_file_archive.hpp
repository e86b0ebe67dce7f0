#pragma once
// The embedded store's HistoryArchive: text files in the data dir, one per room and UTC day,
//
//   DATA_DIR/history/ROOM/YYYY-MM-DD.log   one minute per line (minute_record.hpp)
//
// Appended to once a minute and synced then (fdatasync), so a crash loses at most the minute in
// progress. Dropping a day is unlinking its file; forgetting a room is removing its folder.
// A torn last line (a crash mid-write) does not read and is cut off before the next append; a
// damaged line anywhere is skipped. A room's minute written twice (after the clock was set back)
// reads as its first copy. About 70 bytes a minute: 100 KB per room per day.
#include <filesystem>
#include <map>
#include <mutex>

#include "store/history_archive.hpp"

namespace waitroom::store {

class HistoryFileArchive final : public HistoryArchive {
 public:
  // `dir` is created on the first append.
  HistoryFileArchive(std::filesystem::path dir, int history_days);

  core::Result<void> append(const std::vector<RoomMinute>& minutes) override;
  core::Result<std::vector<MinuteAggregate>> read(std::string_view room, std::int64_t from_ms,
                                                  std::int64_t to_ms) override;
  core::Result<void> forget(std::string_view room, std::int64_t now_ms) override;
  core::Result<void> prune(std::int64_t now_ms, const std::vector<std::string>& rooms) override;

  // The file that holds the room's minutes of the day that holds `at_ms`.
  std::filesystem::path day_file(std::string_view room, std::int64_t at_ms) const;

 private:
  const std::filesystem::path dir_;
  std::mutex mu_;  // one append, forget or prune at a time
  // The newest minute this process appended per room: a minute not newer is not written again.
  std::map<std::string, std::int64_t, std::less<>> newest_;
};

}  // namespace waitroom::store
