#include "engine/room_events.hpp"

#include "core/rfc3339.hpp"
#include "engine/notice_ops.hpp"

namespace waitroom::engine {

namespace json = boost::json;

void step_events(Effects& fx, const token::TicketIdCodec& ids, core::Room& rm,
                 const core::Admissions& step, std::int64_t now_ms) {
  if (!fx.wants_events) return;
  const std::string& room = rm.name();
  auto emit = [&](std::string_view type, json::object data) {
    fx.event(room, type, std::move(data), now_ms);
  };
  auto ticket = [&](std::uint64_t p) { return ids.encode(room, rm.epoch(), p); };
  for (const core::EventTransition& t : step.transitions) {
    const std::string start = core::format_rfc3339(t.event_start_s);
    using Kind = core::EventTransition::Kind;
    if (t.kind == Kind::prequeue_opened) {
      json::object data{{"event_start", start},
                        {"commitment", core::commitment_hex(t.seed)},
                        {"first_position", t.first}};
      if (t.winners > 0) data["winners"] = t.winners;
      emit("event.prequeue_opened", std::move(data));
    } else if (t.kind == Kind::started) {
      json::object data{{"event_start", start}};
      for (const core::DrawInfo& d : rm.draws())
        if (d.event_start_s == t.event_start_s && d.seed) {
          data = {{"event_start", start},
                  {"seed", *d.seed},
                  {"commitment", d.commitment},
                  {"first_position", d.first_position},
                  {"shuffled_first", d.shuffled_first},
                  {"last_position", d.last_position}};
          if (d.winners) data["winners"] = *d.winners;
        }
      emit("event.started", std::move(data));
    } else {
      emit("event.ended", {{"event_start", start}});
    }
  }
  if (const auto& a = step.adjusted) {
    auto number = [](const std::optional<double>& v) {
      return v ? json::value(*v) : json::value(nullptr);
    };
    const core::AdmissionPolicy& policy = rm.admission();
    emit("admission.adjusted",
         {{"reason", core::to_string(a->reason)},
          {"old_limit", a->old_limit ? json::value(*a->old_limit) : json::value(nullptr)},
          {"new_limit", a->new_limit},
          {"held", a->held},
          {"signals",
           {{"p50_ms", number(a->inputs.p50_ms)},
            {"p95_ms", number(a->inputs.p95_ms)},
            {"error_ratio", number(a->inputs.error_ratio)},
            {"samples", a->inputs.samples}}},
          {"target_p95_ms", policy.target_p95_ms.value_or(0)},
          {"max_error_ratio", policy.error_ratio_limit()}});
  }
  for (std::uint64_t p : step.unclaimed)
    emit("ticket.expired", {{"ticket", ticket(p)}, {"position", p}, {"reason", "unclaimed"}});
  for (std::uint64_t p : step.left)
    emit("ticket.expired", {{"ticket", ticket(p)}, {"position", p}, {"reason", "idle"}});
  const std::int64_t claim_s = rm.settings().claim_timeout_s;
  for (std::uint64_t p : step.admitted) {
    emit("ticket.admitted",
         {{"ticket", ticket(p)}, {"position", p}, {"admitted_at", rm.admitted_at(p)}});
    // Leave and come back: the visitor asked to be told (the address is never in an event).
    if (const core::Notice* n = rm.notices().find(p))
      emit("ticket.turn",
           {{"ticket", ticket(p)},
            {"position", p},
            {"resume_path", resume_path(ids, room, ticket(p))},
            {"channel", core::to_string(n->channel)},
            {"claim_until", claim_s > 0
                                ? json::value(core::format_rfc3339(rm.admitted_at(p) + claim_s))
                                : json::value(nullptr)}});
  }
  if (step.recycled > 0)  // AWS's detail type and fields
    emit("automatic_serving_counter_incr",
         {{"event_id", room},
          {"previous_serving_counter_position", step.serving_from},
          {"increment_by", step.recycled},
          {"current_serving_counter_position", step.serving_to}});
}

void metrics_event(Effects& fx, core::Room& rm, std::int64_t now_ms) {
  if (!fx.wants_events) return;
  const core::RoomCounters c = rm.counters(now_ms / 1000);
  fx.event(rm.name(), "waiting_room_metrics",
           {{"event_id", rm.name()},
            {"num_active_tokens", c.active_sessions},
            {"total_num_tokens", c.passes_issued},
            {"queue_counter", c.queue_counter},
            {"serving_number", c.serving},
            {"completed_sessions", c.completed},
            {"abandoned_sessions", c.abandoned},
            {"waiting", c.waiting},
            {"eligible", c.eligible}},
           now_ms);
}

}  // namespace waitroom::engine
