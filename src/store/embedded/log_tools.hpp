#pragma once
// `waitroom log check` and `waitroom log repair`: the explicit, operator-driven side of the log's
// integrity rule (log_format.hpp). Start-up never drops an acknowledged record by itself; these
// tools say what is wrong and, when the operator asks, drop a damaged part while keeping the
// rooms' counters above anything it had handed out. docs/operations.md, "A damaged log".
#include <cstdint>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>

#include "core/error.hpp"
#include "engine/log_records.hpp"
#include "store/embedded/log_format.hpp"

namespace waitroom::store {

// Exit codes of the two commands.
inline constexpr int kLogToolOk = 0;
inline constexpr int kLogToolDamaged = 1;  // check: the log is damaged
inline constexpr int kLogToolFailed = 2;   // the command could not do what was asked

// Prints the report start-up would refuse with (or that the log is intact, or has a torn tail,
// which start-up cuts off by itself). kLogToolOk unless the log is damaged.
int check_log(const std::filesystem::path& data_dir, std::ostream& out, std::ostream& err);

// What a room's records reached in the part of a log that a repair drops.
struct DroppedReach {
  std::uint64_t records = 0;
  std::uint32_t epoch = 0;  // the latest epoch seen; the two counters below are within it
  std::uint64_t highest_position = 0;
  std::uint64_t serving = 0;
  std::uint64_t event_seq = 0;  // the last number the room's feed gave, across epochs
};
// Folds one dropped record into its room's reach.
void note_dropped(std::map<std::string, DroppedReach>& reach, const engine::LogRecord& record);

// Cuts the log at `truncate_at` (the start of a record, at or before the first bad spot), after
// copying it (and its mark) next to it, and appends a CounterFloorRecord for each room that had
// records in the dropped part. Prints what is dropped.
int repair_log(const std::filesystem::path& data_dir, std::uint64_t truncate_at, std::ostream& out,
               std::ostream& err);

}  // namespace waitroom::store
