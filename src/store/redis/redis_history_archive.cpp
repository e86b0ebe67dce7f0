#include "store/redis/redis_history_archive.hpp"

#include <map>

#include "core/rfc3339.hpp"
#include "store/minute_record.hpp"

namespace waitroom::store::redis {

using core::ErrorCode;

namespace {
constexpr std::size_t kDateChars = 10;    // YYYY-MM-DD
constexpr std::int64_t kMinExpiryS = 60;  // a day's hash outlives the write that set it
constexpr std::int64_t kMsPerSecond = 1000;

core::Result<void> refused(const Reply& reply) {
  return core::fail(ErrorCode::unavailable, "Redis: " + reply.str);
}
}  // namespace

RedisHistoryArchive::RedisHistoryArchive(RedisOptions options, RedisKeys keys, int history_days)
    : HistoryArchive(history_days), keys_(std::move(keys)), redis_(std::move(options)) {}

RedisHistoryArchive::~RedisHistoryArchive() = default;

std::string RedisHistoryArchive::day_key(std::string_view room, std::int64_t at_ms) const {
  return keys_.history(room,
                       core::format_rfc3339(day_of(at_ms) / kMsPerSecond).substr(0, kDateChars));
}

core::Result<void> RedisHistoryArchive::append(const std::vector<RoomMinute>& minutes) {
  if (minutes.empty()) return {};
  std::vector<std::vector<std::string>> commands;
  std::map<std::string, std::int64_t> expiry_s;  // per day's key: seconds from the newest minute
  for (const RoomMinute& rm : minutes) {
    const std::int64_t at = rm.minute.minute_ms;
    std::string key = day_key(rm.room, at);
    commands.push_back({"HSETNX", key, std::to_string(at), encode_minute(rm.minute)});
    const std::int64_t until_ms =
        day_of(at) + (static_cast<std::int64_t>(history_days()) + 1) * kMsPerDay;
    expiry_s[std::move(key)] = std::max(kMinExpiryS, (until_ms - at) / kMsPerSecond);
  }
  for (const auto& [key, seconds] : expiry_s)
    commands.push_back({"EXPIRE", key, std::to_string(seconds)});
  auto replies = redis_.pipeline(std::move(commands));
  if (!replies) return std::unexpected(replies.error());
  for (const Reply& r : *replies)
    if (r.is_error()) return refused(r);
  return {};
}

core::Result<std::vector<MinuteAggregate>> RedisHistoryArchive::read(std::string_view room,
                                                                     std::int64_t from_ms,
                                                                     std::int64_t to_ms) {
  std::vector<MinuteAggregate> out;
  if (to_ms <= from_ms) return out;
  std::vector<std::vector<std::string>> commands;
  for (std::int64_t day = day_of(from_ms); day < to_ms; day += kMsPerDay)
    commands.push_back({"HGETALL", day_key(room, day)});
  auto replies = redis_.pipeline(std::move(commands));
  if (!replies) return std::unexpected(replies.error());
  std::map<std::int64_t, MinuteAggregate> found;
  for (const Reply& r : *replies) {
    if (r.is_error()) return std::unexpected(refused(r).error());
    // Field, value, field, value…: the value is the whole line, its minute included.
    for (std::size_t i = 1; i < r.elements.size(); i += 2) {
      auto m = decode_minute(r.elements[i].str);
      if (m && m->minute_ms >= from_ms && m->minute_ms < to_ms) found.try_emplace(m->minute_ms, *m);
    }
  }
  out.reserve(found.size());
  for (auto& [minute, m] : found) out.push_back(std::move(m));
  return out;
}

core::Result<void> RedisHistoryArchive::forget(std::string_view room, std::int64_t now_ms) {
  // Every day that may still be kept, and the next (another node's clock may run ahead).
  std::vector<std::string> del{"DEL"};
  for (std::int64_t day = kept_from_ms(now_ms); day <= day_of(now_ms) + kMsPerDay; day += kMsPerDay)
    del.push_back(day_key(room, day));
  auto replies = redis_.pipeline({std::move(del)});
  if (!replies) return std::unexpected(replies.error());
  for (const Reply& r : *replies)
    if (r.is_error()) return refused(r);
  return {};
}

}  // namespace waitroom::store::redis
