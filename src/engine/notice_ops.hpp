#pragma once
// Leave and come back (docs/notifications.md), written once for both stores like the operations of
// engine/room_ops.hpp: a waiting visitor asks to be notified (and may leave the page for up to the
// room's away_max_s), the admission step finds whose turn nears, and the notifier (notify/) reports
// each message it sent or gave up. Each is a record; every message becomes due from committed
// state, so a restart between "due" and "sent" loses none.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/room.hpp"
#include "engine/effects.hpp"
#include "engine/room_ops.hpp"

namespace waitroom::engine {

struct NoticeRequest {
  core::NoticeChannel channel = core::NoticeChannel::webhook;
  std::string contact;  // sealed by the store layer (empty for webhook)
  std::string lang;
};

// Sets (or replaces) the visitor's notice. Refused (conflict) when the room takes no notices
// (away_max_s 0) or the ticket is not waiting.
core::Result<TicketView> set_notice(core::Room& room, const OpContext& ctx, std::uint64_t position,
                                    const std::string& ticket, NoticeRequest request, Effects& fx);
// Cancels it; the place is kept while the visitor is seen, as before. Cancelling none is a no-op.
TicketView cancel_notice(core::Room& room, const OpContext& ctx, std::uint64_t position,
                         const std::string& ticket, Effects& fx);

// The place's resume link, /r/{room}/resume/{token}, as the events ticket.turn_near and
// ticket.turn carry it for an operator's own channel (an SMS sends the visitor back by it).
std::string resume_path(const token::TicketIdCodec& ids, const std::string& room,
                        const std::string& ticket);

// Part of the admission step: the near messages due now (at most one look a second), their
// NoticeDueRecord and ticket.turn_near events.
void notice_step(core::Room& room, const OpContext& ctx, std::int64_t now_ms, Effects& fx);

// A message to send, as the notifier needs it (read under the room's lock).
struct PendingNotice {
  std::string room;
  std::string ticket;
  std::uint32_t epoch = 0;
  std::uint64_t position = 0;
  core::NoticeKind kind = core::NoticeKind::turn;
  core::NoticeChannel channel = core::NoticeChannel::email;
  std::string contact;  // sealed
  std::string lang;
  std::optional<std::uint64_t> ahead;
  std::optional<core::Eta> eta;
  std::int64_t claim_until_s = 0;  // the turn's: when the claim window ends (0: never)
  std::string email_from;          // the room's notify_email_from (empty: the server's)
  bool operator==(const PendingNotice&) const = default;
};
// The room's messages due and not sent.
std::vector<PendingNotice> pending_notices(core::Room& room, const OpContext& ctx);
// Whether that message is still due (not sent, given up, or gone with its ticket).
bool notice_due(const core::Room& room, std::uint32_t epoch, std::uint64_t position,
                core::NoticeKind kind);

// The notifier sent a message (or gave it up, with why: never the contact). A report for a ticket
// or message no longer due changes nothing.
void notice_done(core::Room& room, const OpContext& ctx, std::uint32_t epoch,
                 std::uint64_t position, core::NoticeKind kind, bool sent,
                 const std::string& reason, Effects& fx);

}  // namespace waitroom::engine
