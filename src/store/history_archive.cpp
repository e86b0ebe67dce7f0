#include "store/history_archive.hpp"

namespace waitroom::store {

core::Result<std::optional<MinuteAggregate>> HistoryArchive::latest(std::string_view room,
                                                                    std::int64_t now_ms) {
  auto minutes = read(room, day_of(now_ms) - kMsPerDay, now_ms);
  if (!minutes) return std::unexpected(minutes.error());
  if (minutes->empty()) return std::optional<MinuteAggregate>{};
  return std::optional<MinuteAggregate>{minutes->back()};
}

}  // namespace waitroom::store
