// The embedded store's compaction: the log is rewritten as one snapshot per room followed by the
// records that came after the snapshots (docs/operations.md, "Compaction"). The rest of
// EmbeddedStorage is in embedded_store.cpp.
#include <chrono>
#include <string_view>
#include <unordered_map>

#include "engine/room_snapshot.hpp"
#include "store/embedded/embedded_store.hpp"

namespace waitroom::store {

RoomStorage::Op<CompactionReport> EmbeddedStorage::compact() { return compactor_.request(); }

bool EmbeddedStorage::compaction_due() const {
  return compact_after_bytes_ > 0 && !log_->failed() &&
         log_->bytes_on_disk() >= compacted_at_bytes_.load() + compact_after_bytes_;
}

// A room's snapshot is taken under its lock and holds every record of the room up to the room's
// last lsn then; the rewrite keeps, of the records written after the cut, those the snapshots do
// not hold. Rooms are snapshot one after another: each blocks only its own requests, for the time
// its state takes to copy (encoding comes after, outside the lock). Everything before the cut is
// in some snapshot, since each was taken after it.
core::Result<CompactionReport> EmbeddedStorage::compact_now() {
  const auto started = std::chrono::steady_clock::now();
  const DurableLog::Cut cut = log_->cut();
  std::vector<std::string> head;
  std::unordered_map<std::string, std::uint64_t> held;  // room -> the last lsn its snapshot holds
  for (const auto& entry : entries()) {
    engine::RoomSnapshot snapshot;
    {
      std::lock_guard lock(entry->mu);
      held.emplace(entry->name, entry->last_lsn);
      // With the events the feed keeps: every one the room's records up to last_lsn carried
      // (a commit adds its events to the feed under this lock) that a reader still needs.
      snapshot = take_snapshot(entry->name, entry->room, entry->last_epoch, entry->last_event_seq);
    }
    head.push_back(engine::encode_record(engine::snapshot_record(snapshot)));
  }
  auto keep = [&held](std::uint64_t lsn, std::string_view payload) {
    const auto room = engine::record_room(payload);
    if (!room) return true;  // not ours to judge: replay will say what is wrong with it
    auto it = held.find(std::string(*room));
    return it == held.end() || lsn > it->second;
  };
  auto rewritten = log_->rewrite(cut, head, keep);
  if (!rewritten) return std::unexpected(rewritten.error());
  compacted_at_bytes_ = rewritten->bytes_after;
  CompactionReport report;
  report.rooms = head.size();
  report.bytes_before = rewritten->bytes_before;
  report.bytes_after = rewritten->bytes_after;
  report.records_before = rewritten->records_before;
  report.records_after = rewritten->records_after;
  report.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
  return report;
}

void EmbeddedStorage::render_metrics(std::string& out) const {
  out.append(
         "# HELP waitroom_log_bytes The embedded log's size: its snapshots and the records "
         "since.\n# TYPE waitroom_log_bytes gauge\nwaitroom_log_bytes ")
      .append(std::to_string(log_->bytes_on_disk()))
      .append("\n");
  compactor_.render_metrics(out);
}

}  // namespace waitroom::store
