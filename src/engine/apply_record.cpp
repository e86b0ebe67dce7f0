#include "engine/apply_record.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "config/room_settings_codec.hpp"
#include "engine/room_ops.hpp"
#include "engine/room_snapshot.hpp"
#include "token/invitation.hpp"

namespace waitroom::engine {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

namespace {
core::Admissions admissions_of(const AdmitRecord& r) {
  core::Admissions step;
  step.at_s = r.at_s;
  step.serving_to = r.serving_to;
  step.left = r.left;
  step.unclaimed = r.unclaimed;
  step.drawn = r.drawn;
  return step;
}

core::Result<core::EventTransition> transition_of(const EventRecord& r) {
  if (r.kind < 1 || r.kind > 3 || r.seed.size() != core::Seed{}.size())
    return fail(ErrorCode::internal, "malformed event record of " + r.room);
  core::EventTransition t{static_cast<core::EventTransition::Kind>(r.kind), r.event_start_s,
                          r.at_s};
  std::copy(r.seed.begin(), r.seed.end(), t.seed.begin());
  t.first = r.first;
  t.last = r.last;
  t.winners = r.winners;
  return t;
}
}  // namespace

namespace {
core::Result<core::RoomSettings> settings_from(const std::string& room, std::string_view text) {
  json::error_code ec;
  json::value fields = json::parse(text, ec);
  if (ec || !fields.is_object()) return fail(ErrorCode::internal, "bad settings of " + room);
  return config::apply_room_settings(fields.as_object(), core::RoomSettings{});
}

// The room as the snapshot has it; the records before the snapshot are gone.
core::Result<void> apply_snapshot(const std::string& name, std::optional<core::Room>& room,
                                  std::uint32_t& last_epoch, const RoomSnapshotRecord& r) {
  last_epoch = std::max(last_epoch, r.last_epoch);
  if (!r.exists) {
    room.reset();
    return {};
  }
  auto settings = settings_from(name, r.settings_json);
  if (!settings) return std::unexpected(settings.error());
  auto image = decode_image(r.image);
  if (!image) return fail(ErrorCode::internal, image.error().detail + " of " + name);
  room.emplace(core::Room::restore(name, std::move(*settings), std::move(*image)));
  return {};
}
}  // namespace

core::Result<core::RoomSettings> settings_of(const RoomPutRecord& r) {
  return settings_from(r.room, r.settings_json);
}

AdmitRecord admit_record(const std::string& room, std::uint32_t epoch,
                         const core::Admissions& step) {
  return AdmitRecord{room,      epoch,          step.at_s, step.serving_to,
                     step.left, step.unclaimed, step.drawn};
}

EventRecord event_record(const std::string& room, std::uint32_t epoch,
                         const core::EventTransition& t) {
  return EventRecord{room,
                     epoch,
                     static_cast<std::uint8_t>(t.kind),
                     t.event_start_s,
                     t.at_s,
                     std::string(t.seed.begin(), t.seed.end()),
                     t.first,
                     t.last,
                     t.winners};
}

RoomMessageRecord message_record(const std::string& room, const core::RoomMessagePtr& message) {
  if (!message) return RoomMessageRecord{room, {}, 0};
  return RoomMessageRecord{room, message->text, message->set_at_s};
}

core::AccessCode code_of(const CodeAddedRecord& r) {
  core::AccessCode code;
  code.id = r.id;
  code.hash = r.hash;
  code.uses = r.uses;
  if (r.expires_at_s != 0) code.expires_at_s = r.expires_at_s;
  code.lane = r.lane;
  code.admit = r.admit;
  code.created_at_s = r.created_at_s;
  return code;
}

core::RoomMessagePtr message_of(const RoomMessageRecord& r) {
  if (r.text.empty()) return nullptr;
  return std::make_shared<const core::RoomMessage>(core::RoomMessage{r.text, r.set_at_s});
}

core::Result<void> apply_room_record(core::Room& rm, const LogRecord& record, std::int64_t now_s) {
  return std::visit(
      [&](const auto& r) -> core::Result<void> {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, RoomPutRecord>) {
          auto settings = settings_of(r);
          if (!settings) return std::unexpected(settings.error());
          rm.set_settings(*settings);
          return {};
        } else if constexpr (std::is_same_v<R, RoomDeleteRecord>) {
          return fail(ErrorCode::internal, "a room's delete is not a change of its line");
        } else if constexpr (std::is_same_v<R, RoomSnapshotRecord>) {
          return fail(ErrorCode::internal, "a room's snapshot is not a change of its line");
        } else if constexpr (std::is_same_v<R, EventsRecord>) {
          return {};  // events change nothing
        } else if constexpr (std::is_same_v<R, ResetRecord>) {
          rm.reset(r.new_epoch);
          return {};
        } else if constexpr (std::is_same_v<R, CounterFloorRecord>) {
          if (r.epoch < rm.epoch()) return {};  // the room moved on to a later epoch since
          if (r.epoch > rm.epoch()) rm.reset(r.epoch);
          rm.raise_floor(r.queue_counter, r.serving, now_s);
          return {};
        } else if constexpr (std::is_same_v<R, RoomMessageRecord>) {  // of no epoch: kept by resets
          rm.set_message(message_of(r));
          return {};
        } else if constexpr (std::is_same_v<R, CodeAddedRecord>) {  // codes: of no epoch either
          return rm.codes().add(code_of(r));
        } else if constexpr (std::is_same_v<R, CodeUsedRecord>) {
          rm.codes().use(r.id);
          return {};
        } else if constexpr (std::is_same_v<R, CodeRevokedRecord>) {
          rm.codes().revoke(r.id);
          return {};
        } else if constexpr (std::is_same_v<R, InvitationUsedRecord>) {
          // The jti stays used across resets; the place is one of its epoch's line only.
          rm.invitations().use(r.jti, r.exp_s, r.at_s, token::kInvitationLeewayS);
          if (r.epoch == rm.epoch() && rm.has_ticket(r.position))
            rm.invitations().add_place(r.sub, r.position);
          return {};
        } else if constexpr (std::is_same_v<R, AdmissionLimitRecord>) {  // of no epoch
          if (rm.admission().mode == core::AdmissionMode::adaptive && r.limit > 0)
            rm.set_active_limit(r.limit);
          return {};
        } else if constexpr (std::is_same_v<R, InventoryRecord>) {  // of no epoch either
          rm.set_inventory(r.left);
          return {};
        } else if constexpr (std::is_same_v<R, PausedRecord>) {  // older logs; now a setting
          core::RoomSettings st = rm.settings();
          st.state = r.paused ? core::RoomState::paused : core::RoomState::open;
          rm.set_settings(std::move(st));
          return {};
        } else {
          if (rm.epoch() != r.epoch)
            return fail(ErrorCode::internal, "record for another epoch of " + r.room);
          if constexpr (std::is_same_v<R, EnqueueRecord>) {
            if (r.first_position != rm.queue_counter() + 1)
              return fail(ErrorCode::internal, "positions out of order in " + r.room);
            auto first = rm.enqueue(r.entry_time_s, r.count, r.flags, r.lane, r.party);
            if (!first) return std::unexpected(first.error());
            return {};
          } else if constexpr (std::is_same_v<R, AdvanceRecord>) {
            core::Admissions step;
            step.serving_to = r.serving;
            rm.apply(step);
            return {};
          } else if constexpr (std::is_same_v<R, AdmitRecord>) {
            rm.apply(admissions_of(r));
            return {};
          } else if constexpr (std::is_same_v<R, EventRecord>) {
            auto t = transition_of(r);
            if (!t) return std::unexpected(t.error());
            rm.apply(*t);
            return {};
          } else if constexpr (std::is_same_v<R, PassIssuedRecord>) {
            if (!rm.has_ticket(r.position))
              return fail(ErrorCode::internal, "pass for unknown ticket");
            rm.add_session(
                r.position,
                core::Session{
                    r.pass, r.issued_at_s, r.expires_at_s, core::TicketStatus::admitted, 0, {}, 0});
            return {};
          } else if constexpr (std::is_same_v<R, NoticeSetRecord>) {
            if (r.channel == 0) {
              rm.cancel_notice(r.position);
              return {};
            }
            if (r.channel > static_cast<std::uint8_t>(core::NoticeChannel::email))
              return fail(ErrorCode::internal, "a notice of an unknown channel in " + r.room);
            rm.replay_notice(r.position, core::Notice{static_cast<core::NoticeChannel>(r.channel),
                                                      r.contact, r.lang, r.at_s});
            return {};
          } else if constexpr (std::is_same_v<R, NoticeDueRecord>) {
            for (std::uint64_t p : r.positions) rm.mark_notice_due(p, core::NoticeKind::turn_near);
            return {};
          } else if constexpr (std::is_same_v<R, NoticeDoneRecord>) {
            if (r.kind < 1 || r.kind > 2)
              return fail(ErrorCode::internal, "a notice of an unknown kind in " + r.room);
            rm.mark_notice_done(r.position, static_cast<core::NoticeKind>(r.kind), r.sent);
            return {};
          } else if constexpr (std::is_same_v<R, PassRenewedRecord>) {
            auto renewed = rm.renew_session(r.position, r.pass, r.expires_at_s, 0, /*revive=*/true);
            // Ended by an operator after an earlier renewal: nothing to renew, as it was live.
            if (!renewed && renewed.error().code != ErrorCode::gone)
              return std::unexpected(renewed.error());
            return {};
          } else {
            static_assert(std::is_same_v<R, SessionEndRecord>);
            auto ended = rm.end_session(r.position, r.status, now_s);
            // A session that expired by time before the restart was still ended by the operator.
            if (!ended && ended.error().code != ErrorCode::conflict)
              return std::unexpected(ended.error());
            return {};
          }
        }
      },
      record);
}

core::Result<void> apply_record(const std::string& name, std::optional<core::Room>& room,
                                std::uint32_t& last_epoch, const LogRecord& record,
                                std::int64_t now_s) {
  if (const auto* snapshot = std::get_if<RoomSnapshotRecord>(&record))
    return apply_snapshot(name, room, last_epoch, *snapshot);
  // A change's audit events: they change nothing (and follow a delete's record, so the room may
  // be gone). The storage feeds them to its event feed (engine/event_records.hpp).
  if (std::holds_alternative<EventsRecord>(record)) return {};
  if (const auto* put = std::get_if<RoomPutRecord>(&record); put && !room) {
    auto settings = settings_of(*put);
    if (!settings) return std::unexpected(settings.error());
    room.emplace(create_room(name, std::move(*settings), last_epoch));
    return {};
  }
  if (std::holds_alternative<RoomDeleteRecord>(record)) {
    if (!room)
      return fail(ErrorCode::internal, "delete of room " + name + " while it does not exist");
    room.reset();
    return {};
  }
  if (const auto* floor = std::get_if<CounterFloorRecord>(&record)) {
    // A room re-created after a repair starts past the epochs of the dropped records.
    last_epoch = std::max(last_epoch, floor->epoch);
    if (!room) return {};  // deleted (or not yet created) where the log was cut
  }
  if (!room)
    return fail(ErrorCode::internal, "a record of room " + name + " while it does not exist");
  if (const auto* reset = std::get_if<ResetRecord>(&record)) last_epoch = reset->new_epoch;
  return apply_room_record(*room, record, now_s);
}

}  // namespace waitroom::engine
