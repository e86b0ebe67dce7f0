#include "engine/notice_ops.hpp"

#include <boost/json.hpp>

#include "core/rfc3339.hpp"

namespace waitroom::engine {

namespace json = boost::json;
using core::ErrorCode;
using core::fail;

core::Result<TicketView> set_notice(core::Room& rm, const OpContext& ctx, std::uint64_t position,
                                    const std::string& ticket, NoticeRequest request, Effects& fx) {
  if (rm.settings().away_max_s <= 0)
    return fail(ErrorCode::conflict,
                "room " + rm.name() + " does not notify visitors (its away_max_s is 0)");
  const std::int64_t now = ctx.clock.now_s();
  mark_seen(rm, ctx, position, now);
  core::Notice notice{request.channel, std::move(request.contact), std::move(request.lang), now};
  NoticeSetRecord record{
      rm.name(),      rm.epoch(),  position, static_cast<std::uint8_t>(notice.channel),
      notice.contact, notice.lang, now};
  if (auto ok = rm.set_notice(position, std::move(notice), now); !ok)
    return std::unexpected(ok.error());
  fx.record(std::move(record));
  // The address never goes into events: only the channel.
  fx.event(
      rm.name(), "ticket.notice_set",
      {{"ticket", ticket}, {"position", position}, {"channel", core::to_string(request.channel)}},
      ctx.clock.now_ms());
  fx.changed = true;
  return ticket_view(rm, ctx, position, ticket);
}

TicketView cancel_notice(core::Room& rm, const OpContext& ctx, std::uint64_t position,
                         const std::string& ticket, Effects& fx) {
  mark_seen(rm, ctx, position, ctx.clock.now_s());
  if (rm.cancel_notice(position)) {
    fx.record(NoticeSetRecord{rm.name(), rm.epoch(), position, 0, {}, {}, ctx.clock.now_s()});
    fx.event(rm.name(), "ticket.notice_cancelled", {{"ticket", ticket}, {"position", position}},
             ctx.clock.now_ms());
    fx.changed = true;
  }
  return ticket_view(rm, ctx, position, ticket);
}

std::string resume_path(const token::TicketIdCodec& ids, const std::string& room,
                        const std::string& ticket) {
  auto token = ids.resume_tokens().token_for(ticket);
  return token ? "/r/" + room + "/resume/" + *token : std::string();
}

void notice_step(core::Room& rm, const OpContext& ctx, std::int64_t now_ms, Effects& fx) {
  if (rm.notices().awaiting_near().empty()) return;
  const std::vector<std::uint64_t> due = rm.notices_due(now_ms);
  if (due.empty()) return;
  if (fx.wants_events) {
    const std::int64_t now_s = now_ms / 1000;
    for (std::uint64_t p : due) {
      const core::TicketState t = rm.ticket(p, now_s);
      const std::string ticket = ctx.ids.encode(rm.name(), rm.epoch(), p);
      json::object data{{"ticket", ticket},
                        {"position", p},
                        {"resume_path", resume_path(ctx.ids, rm.name(), ticket)},
                        {"channel", core::to_string(t.notice->channel)},
                        {"ahead", t.ahead ? json::value(*t.ahead) : json::value(nullptr)},
                        {"eta_p90_s", t.eta ? json::value(t.eta->p90_s) : json::value(nullptr)}};
      fx.event(rm.name(), "ticket.turn_near", std::move(data), now_ms);
    }
  }
  fx.record(NoticeDueRecord{rm.name(), rm.epoch(), due});
  fx.changed = true;
}

std::vector<PendingNotice> pending_notices(core::Room& rm, const OpContext& ctx) {
  std::vector<PendingNotice> out;
  const std::int64_t now = ctx.clock.now_s();
  const std::int64_t claim = rm.settings().claim_timeout_s;
  for (const auto& [position, kind] : rm.notices().outbox()) {
    const core::Notice* n = rm.notices().find(position);
    if (!n) continue;
    const core::TicketState t = rm.ticket(position, now);
    PendingNotice p{rm.name(),  ctx.ids.encode(rm.name(), rm.epoch(), position),
                    rm.epoch(), position,
                    kind,       n->channel,
                    n->contact, n->lang,
                    t.ahead,    t.eta,
                    0,          rm.settings().notify_email_from};
    if (kind == core::NoticeKind::turn && t.admitted_at_s && claim > 0)
      p.claim_until_s = *t.admitted_at_s + claim;
    out.push_back(std::move(p));
  }
  return out;
}

bool notice_due(const core::Room& rm, std::uint32_t epoch, std::uint64_t position,
                core::NoticeKind kind) {
  const core::Notice* n = rm.epoch() == epoch ? rm.notices().find(position) : nullptr;
  return n && (kind == core::NoticeKind::turn ? n->turn : n->near) == core::NoticeProgress::due;
}

void notice_done(core::Room& rm, const OpContext& ctx, std::uint32_t epoch, std::uint64_t position,
                 core::NoticeKind kind, bool sent, const std::string& reason, Effects& fx) {
  if (!notice_due(rm, epoch, position, kind)) return;
  const core::NoticeChannel channel = rm.notices().find(position)->channel;
  rm.mark_notice_done(position, kind, sent);
  fx.record(NoticeDoneRecord{rm.name(), epoch, position, static_cast<std::uint8_t>(kind), sent});
  if (!sent)
    fx.event(rm.name(), "ticket.notice_failed",
             {{"ticket", ctx.ids.encode(rm.name(), epoch, position)},
              {"position", position},
              {"kind", core::to_string(kind)},
              {"channel", core::to_string(channel)},
              {"reason", reason}},
             ctx.clock.now_ms());
  fx.changed = true;
}

}  // namespace waitroom::engine
