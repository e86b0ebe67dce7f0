#include "engine/room_snapshot.hpp"

#include <boost/json/serialize.hpp>

#include "config/room_settings_codec.hpp"
#include "engine/byte_codec.hpp"

namespace waitroom::engine {

namespace {
// The image's own format version, first in its bytes: a later layout can be told apart. Version 2
// adds the operators' message at the end. A room without one is still written as version 1, so an
// older version reads the snapshots of rooms whose operators never set a message.
constexpr std::uint8_t kImageVersion = 1;
constexpr std::uint8_t kImageVersionWithMessage = 2;
// Version 3: after the schedule, whether a message follows (and it), then the access codes.
// Written only for rooms that have codes.
constexpr std::uint8_t kImageVersionWithCodes = 3;
// Version 4: version 3, then the used invitations and the places identities hold. Written only
// for rooms that took invitations.
constexpr std::uint8_t kImageVersionWithInvitations = 4;
// Version 5: version 4, then the party tickets (position and seats; every other ticket has one).
// Written only for rooms that have parties.
constexpr std::uint8_t kImageVersionWithParties = 5;
// Version 6: version 5, then each draw's winners (0: not a drawing). Written only for rooms whose
// schedule has a drawing.
constexpr std::uint8_t kImageVersionWithDrawings = 6;
// Version 7: version 6, then adaptive admission's limit on places held (0: none found). Written
// only for rooms whose controller found one.
constexpr std::uint8_t kImageVersionWithActiveLimit = 7;
// Version 8: version 7, then the inventory: whether the room counts items, and how many are
// left. Written only for rooms that count them.
constexpr std::uint8_t kImageVersionWithInventory = 8;
// Version 9: version 8, then the notices of leave and come back (position, channel, sealed
// contact, language, since, the two messages' progress). Written only for rooms that have some.
constexpr std::uint8_t kImageVersionWithNotices = 9;
// A ticket's flags (core::kTracksPresence, kAdmittedOnArrival) use the low bits of its byte; its
// lane (0-8, core/lanes.hpp) goes in the high four, so rooms without lanes write what they did.
constexpr std::uint8_t kLaneShift = 4;
constexpr std::uint8_t kFlagsMask = 0x0f;

void write_positions(ByteWriter& w, const std::vector<std::uint64_t>& positions) {
  w.u64(positions.size());
  for (std::uint64_t p : positions) w.u64(p);
}

// A count read from the bytes is trusted only as far as the bytes left could hold it.
std::uint64_t read_count(ByteReader& in, std::size_t min_bytes_each, std::size_t left) {
  const std::uint64_t n = in.u64();
  if (n > left / min_bytes_each) in.fail();
  return in.ok() ? n : 0;
}

std::vector<std::uint64_t> read_positions(ByteReader& in, std::size_t left) {
  std::vector<std::uint64_t> out(read_count(in, 8, left));
  for (std::uint64_t& p : out) p = in.u64();
  return out;
}

void write_optional(ByteWriter& w, const std::optional<std::int64_t>& v) {
  w.u8(v ? 1 : 0).i64(v.value_or(0));
}
std::optional<std::int64_t> read_optional(ByteReader& in) {
  const bool has = in.u8() != 0;
  const std::int64_t v = in.i64();
  if (!has) return std::nullopt;
  return v;
}

void write_counters(ByteWriter& w, const core::RoomCounters& c) {
  for (std::uint64_t v :
       {c.queue_counter, c.serving, c.waiting, c.eligible, c.admitted, c.tickets_expired,
        c.active_sessions, c.passes_issued, c.completed, c.abandoned, c.revoked, c.expired,
        c.tickets_issued_total, c.passes_issued_total})
    w.u64(v);
}
core::RoomCounters read_counters(ByteReader& in) {
  core::RoomCounters c;
  for (std::uint64_t* v :
       {&c.queue_counter, &c.serving, &c.waiting, &c.eligible, &c.admitted, &c.tickets_expired,
        &c.active_sessions, &c.passes_issued, &c.completed, &c.abandoned, &c.revoked, &c.expired,
        &c.tickets_issued_total, &c.passes_issued_total})
    *v = in.u64();
  return c;
}

void write_schedule(ByteWriter& w, const core::ScheduleImage& s) {
  write_optional(w, s.event_start);
  w.u8(s.event_running ? 1 : 0);
  write_optional(w,
                 s.prequeue_first ? std::optional<std::int64_t>(*s.prequeue_first) : std::nullopt);
  w.u64(s.draws.size());
  for (const core::DrawImage& d : s.draws) {
    w.i64(d.info.event_start_s).i64(d.info.opened_at_s).str(d.info.commitment);
    w.u8(d.info.seed ? 1 : 0).str(d.info.seed.value_or(""));
    write_optional(w, d.info.started_at_s);
    w.u64(d.info.first_position).u64(d.info.last_position).u64(d.info.shuffled_first);
    w.str(std::string_view(reinterpret_cast<const char*>(d.seed.data()), d.seed.size()));
  }
}
core::ScheduleImage read_schedule(ByteReader& in, std::size_t left) {
  core::ScheduleImage s;
  s.event_start = read_optional(in);
  s.event_running = in.u8() != 0;
  if (auto first = read_optional(in)) s.prequeue_first = static_cast<std::uint64_t>(*first);
  s.draws.resize(read_count(in, 64, left));
  for (core::DrawImage& d : s.draws) {
    d.info.event_start_s = in.i64();
    d.info.opened_at_s = in.i64();
    d.info.commitment = in.str();
    const bool has_seed = in.u8() != 0;
    std::string seed_hex(in.str());
    if (has_seed) d.info.seed = std::move(seed_hex);
    d.info.started_at_s = read_optional(in);
    d.info.first_position = in.u64();
    d.info.last_position = in.u64();
    d.info.shuffled_first = in.u64();
    const std::string_view seed = in.str();
    if (seed.size() != d.seed.size()) in.fail();
    if (in.ok()) std::copy(seed.begin(), seed.end(), d.seed.begin());
  }
  return s;
}

// Every position the image names must be a ticket of its line, and every draw's order must fit
// its bounds: replay would index the line with them.
bool consistent(const core::RoomImage& m) {
  const std::uint64_t tail = m.tickets.size();
  auto in_line = [tail](std::uint64_t p) { return p >= 1 && p <= tail; };
  for (std::uint64_t p : m.admitted_order)
    if (!in_line(p)) return false;
  for (std::uint64_t p : m.claim_queue)
    if (!in_line(p)) return false;
  for (const auto& [p, s] : m.sessions)
    if (!in_line(p)) return false;
  for (const core::IdentityPlaces& places : m.identity_places)
    for (std::uint64_t p : places.positions)
      if (!in_line(p)) return false;
  for (const core::DrawImage& d : m.schedule.draws)
    if (d.info.started_at_s && d.info.last_position >= d.info.shuffled_first &&
        (d.info.shuffled_first == 0 || d.info.last_position > tail))
      return false;
  return m.epoch >= 1 && m.epoch <= core::kMaxEpoch && tail <= core::kMaxPosition;
}
}  // namespace

std::string encode_image(const core::RoomImage& m) {
  ByteWriter w;
  const bool invited = !m.used_invitations.empty() || !m.identity_places.empty();
  std::vector<std::pair<std::uint64_t, std::uint8_t>> parties;
  for (std::uint64_t p = 1; p <= m.tickets.size(); ++p)
    if (m.tickets[p - 1].party != 1) parties.emplace_back(p, m.tickets[p - 1].party);
  bool drawing = false;
  for (const core::DrawImage& d : m.schedule.draws) drawing = drawing || d.info.winners;
  const std::uint8_t version = !m.notices.empty() ? kImageVersionWithNotices
                               : m.inventory      ? kImageVersionWithInventory
                               : m.active_limit   ? kImageVersionWithActiveLimit
                               : drawing          ? kImageVersionWithDrawings
                               : !parties.empty() ? kImageVersionWithParties
                               : invited          ? kImageVersionWithInvitations
                               : !m.codes.empty() ? kImageVersionWithCodes
                               : m.message        ? kImageVersionWithMessage
                                                  : kImageVersion;
  w.u8(version).u32(m.epoch).u64(m.serving);
  w.u64(m.tickets.size());
  for (const core::TicketSlot& t : m.tickets) {
    w.u32(t.entry_time_s).u32(t.admitted_at_s).u8(static_cast<std::uint8_t>(t.phase));
    w.u8(static_cast<std::uint8_t>(t.flags | t.lane << kLaneShift));
  }
  write_positions(w, m.admitted_order);
  w.u64(m.left_count).u64(m.unclaimed_expired).u64(m.unclaimed_count);
  write_positions(w, m.claim_queue);
  w.u64(m.sessions.size());
  for (const auto& [position, s] : m.sessions) {
    w.u64(position).u8(core::session_status_code(s.status));
    w.i64(s.issued_at_s).i64(s.expires_at_s).str(s.pass);
    w.str(s.previous_pass).i64(s.previous_expires_at_s);
  }
  write_counters(w, m.totals);
  write_schedule(w, m.schedule);
  if (version >= kImageVersionWithCodes) w.u8(m.message ? 1 : 0);
  if (m.message) w.str(m.message->text).i64(m.message->set_at_s);
  if (version >= kImageVersionWithCodes) {
    w.u64(m.codes.size());
    for (const core::AccessCode& c : m.codes) {
      w.str(c.id).str(c.hash).u64(c.uses).u64(c.used).i64(c.expires_at_s.value_or(0));
      w.str(c.lane).u8(c.admit ? 1 : 0).i64(c.created_at_s).u8(c.revoked ? 1 : 0);
    }
  }
  if (version >= kImageVersionWithInvitations) {
    w.u64(m.used_invitations.size());
    for (const core::UsedInvitation& u : m.used_invitations) w.str(u.jti).i64(u.exp_s);
    w.u64(m.identity_places.size());
    for (const core::IdentityPlaces& p : m.identity_places) {
      w.str(p.sub);
      write_positions(w, p.positions);
    }
  }
  if (version >= kImageVersionWithParties) {
    w.u64(parties.size());
    for (const auto& [position, seats] : parties) w.u64(position).u8(seats);
  }
  if (version >= kImageVersionWithDrawings)
    for (const core::DrawImage& d : m.schedule.draws) w.u64(d.info.winners.value_or(0));
  if (version >= kImageVersionWithActiveLimit) w.u64(m.active_limit.value_or(0));
  if (version >= kImageVersionWithInventory) w.u8(m.inventory ? 1 : 0).u64(m.inventory.value_or(0));
  if (version >= kImageVersionWithNotices) {
    w.u64(m.notices.size());
    for (const auto& [position, n] : m.notices) {
      w.u64(position).u8(static_cast<std::uint8_t>(n.channel)).str(n.contact).str(n.lang);
      w.i64(n.since_s).u8(static_cast<std::uint8_t>(n.near)).u8(static_cast<std::uint8_t>(n.turn));
    }
  }
  return w.take();
}

core::Result<core::RoomImage> decode_image(std::string_view bytes) {
  ByteReader in(bytes);
  core::RoomImage m;
  const std::uint8_t version = in.u8();
  if (version < kImageVersion || version > kImageVersionWithNotices)
    return core::fail(core::ErrorCode::internal, "a room snapshot of an unknown version");
  m.epoch = in.u32();
  m.serving = in.u64();
  m.tickets.resize(read_count(in, 10, bytes.size()));
  for (core::TicketSlot& t : m.tickets) {
    t.entry_time_s = in.u32();
    t.admitted_at_s = in.u32();
    const std::uint8_t phase = in.u8();
    if (phase > static_cast<std::uint8_t>(core::TicketPhase::unclaimed)) in.fail();
    t.phase = static_cast<core::TicketPhase>(phase);
    const std::uint8_t flags = in.u8();
    t.flags = flags & kFlagsMask;
    t.lane = static_cast<std::uint8_t>(flags >> kLaneShift);
    if (t.lane > core::kMaxLanes) in.fail();
  }
  m.admitted_order = read_positions(in, bytes.size());
  m.left_count = in.u64();
  m.unclaimed_expired = in.u64();
  m.unclaimed_count = in.u64();
  m.claim_queue = read_positions(in, bytes.size());
  m.sessions.resize(read_count(in, 45, bytes.size()));
  for (auto& [position, s] : m.sessions) {
    position = in.u64();
    if (auto status = core::session_status_from_code(in.u8()))
      s.status = *status;
    else
      in.fail();
    s.issued_at_s = in.i64();
    s.expires_at_s = in.i64();
    s.pass = in.str();
    s.previous_pass = in.str();
    s.previous_expires_at_s = in.i64();
  }
  m.totals = read_counters(in);
  m.schedule = read_schedule(in, bytes.size());
  const bool has_message =
      version == kImageVersionWithMessage || (version >= kImageVersionWithCodes && in.u8() != 0);
  if (has_message) {
    core::RoomMessage message;
    message.text = in.str();
    message.set_at_s = in.i64();
    if (message.text.empty()) in.fail();
    m.message = std::move(message);
  }
  if (version >= kImageVersionWithCodes) {
    m.codes.resize(read_count(in, 40, bytes.size()));
    for (core::AccessCode& c : m.codes) {
      c.id = in.str();
      c.hash = in.str();
      c.uses = in.u64();
      c.used = in.u64();
      if (const std::int64_t expires = in.i64(); expires != 0) c.expires_at_s = expires;
      c.lane = in.str();
      c.admit = in.u8() != 0;
      c.created_at_s = in.i64();
      c.revoked = in.u8() != 0;
    }
  }
  if (version >= kImageVersionWithInvitations) {
    m.used_invitations.resize(read_count(in, 16, bytes.size()));
    for (core::UsedInvitation& u : m.used_invitations) {
      u.jti = in.str();
      u.exp_s = in.i64();
    }
    m.identity_places.resize(read_count(in, 16, bytes.size()));
    for (core::IdentityPlaces& p : m.identity_places) {
      p.sub = in.str();
      p.positions = read_positions(in, bytes.size());
    }
  }
  if (version >= kImageVersionWithParties) {
    const std::uint64_t count = read_count(in, 9, bytes.size());
    for (std::uint64_t i = 0; i < count && in.ok(); ++i) {
      const std::uint64_t position = in.u64();
      const std::uint8_t seats = in.u8();
      if (position < 1 || position > m.tickets.size() || seats < 2 || seats > core::kMaxPartySize)
        in.fail();
      else
        m.tickets[position - 1].party = seats;
    }
  }
  if (version >= kImageVersionWithDrawings)
    for (core::DrawImage& d : m.schedule.draws)
      if (const std::uint64_t winners = in.u64(); winners != 0) d.info.winners = winners;
  if (version >= kImageVersionWithActiveLimit)
    if (const std::uint64_t limit = in.u64(); limit != 0) m.active_limit = limit;
  if (version >= kImageVersionWithInventory) {
    const bool counted = in.u8() != 0;
    const std::uint64_t left = in.u64();
    if (counted) m.inventory = left;
  }
  if (version >= kImageVersionWithNotices) {
    m.notices.resize(read_count(in, 28, bytes.size()));
    for (auto& [position, n] : m.notices) {
      position = in.u64();
      const std::uint8_t channel = in.u8();
      if (channel < 1 || channel > 3 || position < 1 || position > m.tickets.size()) in.fail();
      n.channel = static_cast<core::NoticeChannel>(channel);
      n.contact = in.str();
      n.lang = in.str();
      n.since_s = in.i64();
      const std::uint8_t near = in.u8(), turn = in.u8();
      const auto last = static_cast<std::uint8_t>(core::NoticeProgress::skipped);
      if (near > last || turn > last) in.fail();
      n.near = static_cast<core::NoticeProgress>(near);
      n.turn = static_cast<core::NoticeProgress>(turn);
    }
  }
  if (!in.ok() || !in.at_end() || !consistent(m))
    return core::fail(core::ErrorCode::internal, "a malformed room snapshot");
  return m;
}

RoomSnapshot take_snapshot(const std::string& name, const std::optional<core::Room>& room,
                           std::uint32_t last_epoch) {
  RoomSnapshot s{name, last_epoch, std::nullopt, {}, 0, 0, {}};
  if (room) {
    s.settings = room->settings();
    s.image = room->image();
  }
  return s;
}

RoomSnapshotRecord snapshot_record(const RoomSnapshot& s) {
  RoomSnapshotRecord r{s.name,
                       s.last_epoch,
                       s.settings.has_value(),
                       {},
                       {},
                       s.last_event_seq,
                       s.kept_events.empty() ? 0 : s.kept_first_seq,
                       s.kept_events};
  if (s.settings) {
    // The log keeps OIDC client secrets (it restores the room), as a put record does.
    r.settings_json = boost::json::serialize(
        config::room_settings_to_json(*s.settings, config::Secrets::include));
    r.image = encode_image(s.image);
  }
  return r;
}

RoomSnapshotRecord snapshot_record(const std::string& name, const std::optional<core::Room>& room,
                                   std::uint32_t last_epoch) {
  return snapshot_record(take_snapshot(name, room, last_epoch));
}

}  // namespace waitroom::engine
