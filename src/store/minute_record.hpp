#pragma once
// A MinuteAggregate as one line of text, the same in the history files (history_file_archive.hpp)
// and in Redis (redis/redis_history_archive.hpp):
//
//   m1 MINUTE_MS ARRIVALS ADMISSIONS EXPIRIES WAITING ACTIVE P50_S P90_S PAUSED
//      EPOCH TICKETS ADMITTED TICKETS_EXPIRED SESSIONS_EXPIRED CRC
//
// on one line, separated by single spaces; P50_S and P90_S are "-" without an estimate, PAUSED
// is 0 or 1, CRC is the CRC-32C of everything before its space, in 8 hex digits. The checksum
// turns a torn or damaged line into one that does not read, rather than a wrong minute.
#include <optional>
#include <string>
#include <string_view>

#include "store/minute_history.hpp"

namespace waitroom::store {

std::string encode_minute(const MinuteAggregate& minute);  // without a line end
std::optional<MinuteAggregate> decode_minute(std::string_view line);

}  // namespace waitroom::store
