#include "store/room_storage.hpp"

#include "engine/event_records.hpp"

namespace waitroom::store {

void RoomStorage::feed_committed(const std::string& room, std::vector<engine::LogRecord>& records,
                                 std::uint64_t lsn) const {
  if (!feed_) return;
  for (engine::LogRecord& r : records)
    if (auto* events = std::get_if<engine::EventsRecord>(&r))
      feed_->add(room, events->first_seq, std::move(events->events), lsn);
}

void RoomStorage::feed_record(const std::string& room, std::uint64_t& last_event_seq,
                              const engine::LogRecord& record) const {
  if (!std::holds_alternative<engine::EventsRecord>(record) &&
      !std::holds_alternative<engine::RoomSnapshotRecord>(record) &&
      !std::holds_alternative<engine::CounterFloorRecord>(record))
    return;  // the common case, without a copy
  engine::FeedPart part = engine::feed_part(record);
  last_event_seq = std::max(last_event_seq, part.last_seq);
  if (feed_ && !part.events.empty()) feed_->add(room, part.first_seq, std::move(part.events));
}

engine::RoomSnapshot RoomStorage::take_snapshot(const std::string& name,
                                                const std::optional<core::Room>& room,
                                                std::uint32_t last_epoch,
                                                std::uint64_t last_event_seq) const {
  engine::RoomSnapshot snapshot = engine::take_snapshot(name, room, last_epoch);
  snapshot.last_event_seq = last_event_seq;
  if (feed_) snapshot.kept_events = feed_->kept(name, snapshot.kept_first_seq);
  return snapshot;
}

}  // namespace waitroom::store
