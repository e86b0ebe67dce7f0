#pragma once
// A MinuteAggregate as one line of text, the same in the history files (history_file_archive.hpp)
// and in Redis (redis/redis_history_archive.hpp):
//
//   m2 MINUTE_MS ARRIVALS ADMISSIONS EXPIRIES WAITING ACTIVE P50_S P90_S PAUSED
//      EPOCH TICKETS ADMITTED TICKETS_EXPIRED SESSIONS_EXPIRED
//      LEFT_LINE UNCLAIMED MINUTE_SESSIONS_EXPIRED TICKETS_LEFT WAITS CRC
//
// on one line, separated by single spaces; P50_S and P90_S are "-" without an estimate, PAUSED
// is 0 or 1, TICKETS_LEFT (cumulative, like the four before it) is "-" when unknown, WAITS is the
// minute's WaitHistogram as text ("-" when nobody was admitted), CRC is the CRC-32C of everything
// before its space, in 8 hex digits. The checksum turns a torn or damaged line into one that does
// not read, rather than a wrong minute.
//
// Lines of the first version, "m1", end after SESSIONS_EXPIRED (then the CRC); they still read,
// with the expiries not told apart (0) and no waits.
#include <optional>
#include <string>
#include <string_view>

#include "store/minute_history.hpp"

namespace waitroom::store {

std::string encode_minute(const MinuteAggregate& minute);  // without a line end
std::optional<MinuteAggregate> decode_minute(std::string_view line);

}  // namespace waitroom::store
