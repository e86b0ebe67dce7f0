#include "engine/log_records.hpp"

#include "engine/byte_codec.hpp"

namespace waitroom::engine {

namespace {
// The type tag is the variant index + 1; append new record types at the end only.

void write_fields(ByteWriter& w, const RoomPutRecord& r) { w.str(r.room).str(r.settings_json); }
void write_fields(ByteWriter& w, const RoomDeleteRecord& r) { w.str(r.room); }
void write_fields(ByteWriter& w, const EnqueueRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.first_position).u64(r.count).i64(r.entry_time_s).u8(r.flags);
  if (r.lane != 0 || r.party != 1) w.u8(r.lane);
  if (r.party != 1) w.u8(r.party);
}
void write_positions(ByteWriter& w, const std::vector<std::uint64_t>& positions) {
  w.u32(static_cast<std::uint32_t>(positions.size()));
  for (std::uint64_t p : positions) w.u64(p);
}
void write_fields(ByteWriter& w, const AdmitRecord& r) {
  w.str(r.room).u32(r.epoch).i64(r.at_s).u64(r.serving_to);
  write_positions(w, r.left);
  write_positions(w, r.unclaimed);
  write_positions(w, r.drawn);
}
void write_fields(ByteWriter& w, const AdvanceRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.serving);
}
void write_fields(ByteWriter& w, const PausedRecord& r) { w.str(r.room).u8(r.paused ? 1 : 0); }
void write_fields(ByteWriter& w, const ResetRecord& r) { w.str(r.room).u32(r.new_epoch); }
void write_fields(ByteWriter& w, const PassIssuedRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.position).i64(r.issued_at_s).i64(r.expires_at_s).str(r.pass);
}
void write_fields(ByteWriter& w, const SessionEndRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.position).u8(core::session_status_code(r.status));
}

void read_fields(ByteReader& in, RoomPutRecord& r) {
  r.room = in.str();
  r.settings_json = in.str();
}
void read_fields(ByteReader& in, RoomDeleteRecord& r) { r.room = in.str(); }
void read_fields(ByteReader& in, EnqueueRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.first_position = in.u64();
  r.count = in.u64();
  r.entry_time_s = in.i64();
  if (!in.at_end()) r.flags = in.u8();  // older logs end here
  if (!in.at_end()) r.lane = in.u8();   // and tickets of the default lane here
  if (!in.at_end()) r.party = in.u8();  // and tickets of one seat here
}
void write_fields(ByteWriter& w, const EventRecord& r) {
  w.str(r.room)
      .u32(r.epoch)
      .u8(r.kind)
      .i64(r.event_start_s)
      .i64(r.at_s)
      .str(r.seed)
      .u64(r.first)
      .u64(r.last);
  if (r.winners != 0) w.u64(r.winners);
}
void write_fields(ByteWriter& w, const PassRenewedRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.position).i64(r.expires_at_s).str(r.pass);
}
void read_fields(ByteReader& in, PassRenewedRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.position = in.u64();
  r.expires_at_s = in.i64();
  r.pass = in.str();
}
void write_fields(ByteWriter& w, const CounterFloorRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.queue_counter).u64(r.serving).u64(r.event_seq);
}
void read_fields(ByteReader& in, CounterFloorRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.queue_counter = in.u64();
  r.serving = in.u64();
  if (!in.at_end()) r.event_seq = in.u64();  // absent before the event feed
}
void read_fields(ByteReader& in, EventRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.kind = in.u8();
  r.event_start_s = in.i64();
  r.at_s = in.i64();
  r.seed = in.str();
  r.first = in.u64();
  r.last = in.u64();
  if (!in.at_end()) r.winners = in.u64();  // a drawing's moment; absent otherwise
}
void read_positions(ByteReader& in, std::vector<std::uint64_t>& out) {
  const std::uint32_t n = in.u32();
  for (std::uint32_t i = 0; i < n && in.ok(); ++i) out.push_back(in.u64());
}
void read_fields(ByteReader& in, AdmitRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.at_s = in.i64();
  r.serving_to = in.u64();
  read_positions(in, r.left);
  read_positions(in, r.unclaimed);
  read_positions(in, r.drawn);
}
void read_fields(ByteReader& in, AdvanceRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.serving = in.u64();
}
void read_fields(ByteReader& in, PausedRecord& r) {
  r.room = in.str();
  r.paused = in.u8() != 0;
}
void read_fields(ByteReader& in, ResetRecord& r) {
  r.room = in.str();
  r.new_epoch = in.u32();
}
void read_fields(ByteReader& in, PassIssuedRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.position = in.u64();
  r.issued_at_s = in.i64();
  r.expires_at_s = in.i64();
  r.pass = in.str();
}
void read_fields(ByteReader& in, SessionEndRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.position = in.u64();
  if (auto status = core::session_status_from_code(in.u8()))
    r.status = *status;
  else
    in.fail();
}

void write_events(ByteWriter& w, std::uint64_t first_seq,
                  const std::vector<ops::StoredEvent>& events) {
  w.u64(first_seq).u32(static_cast<std::uint32_t>(events.size()));
  for (const ops::StoredEvent& e : events) w.str(e.id).str(e.type).i64(e.time_ms).str(e.data_json);
}
void read_events(ByteReader& in, std::uint64_t& first_seq, std::vector<ops::StoredEvent>& events) {
  first_seq = in.u64();
  const std::uint32_t n = in.u32();
  for (std::uint32_t i = 0; i < n && in.ok(); ++i) {
    ops::StoredEvent e;
    e.id = in.str();
    e.type = in.str();
    e.time_ms = in.i64();
    e.data_json = in.str();
    events.push_back(std::move(e));
  }
}
void write_fields(ByteWriter& w, const EventsRecord& r) {
  w.str(r.room);
  write_events(w, r.first_seq, r.events);
}
void read_fields(ByteReader& in, EventsRecord& r) {
  r.room = in.str();
  read_events(in, r.first_seq, r.events);
}

void write_fields(ByteWriter& w, const RoomSnapshotRecord& r) {
  w.str(r.room).u32(r.last_epoch).u8(r.exists ? 1 : 0).str(r.settings_json).str(r.image);
  w.u64(r.last_event_seq);
  write_events(w, r.kept_first_seq, r.kept_events);
}
void read_fields(ByteReader& in, RoomSnapshotRecord& r) {
  r.room = in.str();
  r.last_epoch = in.u32();
  r.exists = in.u8() != 0;
  r.settings_json = in.str();
  r.image = in.str();
  if (in.at_end()) return;  // written before the event feed
  r.last_event_seq = in.u64();
  read_events(in, r.kept_first_seq, r.kept_events);
}

void write_fields(ByteWriter& w, const RoomMessageRecord& r) {
  w.str(r.room).str(r.text).i64(r.set_at_s);
}
void read_fields(ByteReader& in, RoomMessageRecord& r) {
  r.room = in.str();
  r.text = in.str();
  r.set_at_s = in.i64();
}

void write_fields(ByteWriter& w, const CodeAddedRecord& r) {
  w.str(r.room).str(r.id).str(r.hash).u64(r.uses).i64(r.expires_at_s).str(r.lane);
  w.u8(r.admit ? 1 : 0).i64(r.created_at_s);
}
void read_fields(ByteReader& in, CodeAddedRecord& r) {
  r.room = in.str();
  r.id = in.str();
  r.hash = in.str();
  r.uses = in.u64();
  r.expires_at_s = in.i64();
  r.lane = in.str();
  r.admit = in.u8() != 0;
  r.created_at_s = in.i64();
}
void write_fields(ByteWriter& w, const CodeUsedRecord& r) { w.str(r.room).str(r.id); }
void read_fields(ByteReader& in, CodeUsedRecord& r) {
  r.room = in.str();
  r.id = in.str();
}
void write_fields(ByteWriter& w, const CodeRevokedRecord& r) { w.str(r.room).str(r.id); }
void read_fields(ByteReader& in, CodeRevokedRecord& r) {
  r.room = in.str();
  r.id = in.str();
}

void write_fields(ByteWriter& w, const InvitationUsedRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.position).str(r.jti).i64(r.exp_s).str(r.sub).i64(r.at_s);
}
void read_fields(ByteReader& in, InvitationUsedRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.position = in.u64();
  r.jti = in.str();
  r.exp_s = in.i64();
  r.sub = in.str();
  r.at_s = in.i64();
}

void write_fields(ByteWriter& w, const AdmissionLimitRecord& r) {
  w.str(r.room).u64(r.limit).i64(r.at_s);
}
void read_fields(ByteReader& in, AdmissionLimitRecord& r) {
  r.room = in.str();
  r.limit = in.u64();
  r.at_s = in.i64();
}

void write_fields(ByteWriter& w, const InventoryRecord& r) {
  w.str(r.room).u8(r.left ? 1 : 0).u64(r.left.value_or(0));
}
void read_fields(ByteReader& in, InventoryRecord& r) {
  r.room = in.str();
  const bool counted = in.u8() != 0;
  const std::uint64_t left = in.u64();
  if (counted) r.left = left;
}

void write_fields(ByteWriter& w, const NoticeSetRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.position).u8(r.channel).str(r.contact).str(r.lang).i64(r.at_s);
}
void read_fields(ByteReader& in, NoticeSetRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.position = in.u64();
  r.channel = in.u8();
  r.contact = in.str();
  r.lang = in.str();
  r.at_s = in.i64();
}
void write_fields(ByteWriter& w, const NoticeDueRecord& r) {
  w.str(r.room).u32(r.epoch);
  write_positions(w, r.positions);
}
void read_fields(ByteReader& in, NoticeDueRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  read_positions(in, r.positions);
}
void write_fields(ByteWriter& w, const NoticeDoneRecord& r) {
  w.str(r.room).u32(r.epoch).u64(r.position).u8(r.kind).u8(r.sent ? 1 : 0);
}
void read_fields(ByteReader& in, NoticeDoneRecord& r) {
  r.room = in.str();
  r.epoch = in.u32();
  r.position = in.u64();
  r.kind = in.u8();
  r.sent = in.u8() != 0;
}

template <std::size_t I = 0>
core::Result<LogRecord> decode_as(std::size_t index, ByteReader& in) {
  if constexpr (I < std::variant_size_v<LogRecord>) {
    if (index == I) {
      std::variant_alternative_t<I, LogRecord> record;
      read_fields(in, record);
      if (!in.ok() || !in.at_end())
        return core::fail(core::ErrorCode::internal,
                          "malformed record of type " + std::to_string(I + 1));
      return LogRecord(std::move(record));
    }
    return decode_as<I + 1>(index, in);
  } else {
    return core::fail(core::ErrorCode::internal,
                      "unknown record type " + std::to_string(index + 1));
  }
}
}  // namespace

std::string encode_record(const LogRecord& record) {
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(record.index() + 1));
  std::visit([&](const auto& r) { write_fields(w, r); }, record);
  return w.take();
}

std::optional<std::string_view> record_room(std::string_view payload) {
  ByteReader in(payload);
  in.u8();
  const std::string_view room = in.str();
  if (!in.ok()) return std::nullopt;
  return room;
}

core::Result<LogRecord> decode_record(std::string_view payload) {
  ByteReader in(payload);
  const std::uint8_t type = in.u8();
  if (!in.ok() || type == 0) return core::fail(core::ErrorCode::internal, "empty record");
  return decode_as(type - 1u, in);
}

}  // namespace waitroom::engine
