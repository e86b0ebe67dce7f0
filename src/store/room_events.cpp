#include "store/room_events.hpp"

#include "core/rfc3339.hpp"
#include "ops/audit_event.hpp"

namespace waitroom::store {

namespace json = boost::json;

void publish_event(ops::EventSink* sink, const core::Clock& clock, const std::string& room,
                   std::string_view type, json::object data) {
  if (!sink) return;
  sink->publish(ops::Event{ops::new_event_id(), std::string(type), room, clock.now_ms(), std::move(data)});
}

void publish_step(ops::EventSink* sink, const core::Clock& clock, const token::TicketIdCodec& ids,
                  core::Room& rm, const core::Admissions& step) {
  if (!sink) return;
  auto emit = [&](const std::string& room, std::string_view type, json::object data) {
    publish_event(sink, clock, room, type, std::move(data));
  };
  const std::string& room = rm.name();
  auto ticket = [&](std::uint64_t p) { return ids.encode(room, rm.epoch(), p); };
  for (const core::EventTransition& t : step.transitions) {
    const std::string start = core::format_rfc3339(t.event_start_s);
    using Kind = core::EventTransition::Kind;
    if (t.kind == Kind::prequeue_opened) {
      emit(room, "event.prequeue_opened", {{"event_start", start}, {"commitment", core::commitment_hex(t.seed)},
                                           {"first_position", t.first}});
    } else if (t.kind == Kind::started) {
      json::object data{{"event_start", start}};
      for (const core::DrawInfo& d : rm.draws())
        if (d.event_start_s == t.event_start_s && d.seed)
          data = {{"event_start", start}, {"seed", *d.seed}, {"commitment", d.commitment},
                  {"first_position", d.first_position}, {"shuffled_first", d.shuffled_first},
                  {"last_position", d.last_position}};
      emit(room, "event.started", std::move(data));
    } else {
      emit(room, "event.ended", {{"event_start", start}});
    }
  }
  for (std::uint64_t p : step.unclaimed)
    emit(room, "ticket.expired", {{"ticket", ticket(p)}, {"position", p}, {"reason", "unclaimed"}});
  for (std::uint64_t p : step.left)
    emit(room, "ticket.expired", {{"ticket", ticket(p)}, {"position", p}, {"reason", "idle"}});
  for (std::uint64_t p : step.admitted)
    emit(room, "ticket.admitted", {{"ticket", ticket(p)}, {"position", p}, {"admitted_at", rm.admitted_at(p)}});
  if (step.recycled > 0)  // AWS's detail type and fields
    emit(room, "automatic_serving_counter_incr",
         {{"event_id", room}, {"previous_serving_counter_position", step.cursor_from},
          {"increment_by", step.recycled}, {"current_serving_counter_position", step.cursor_to}});
}

void publish_metrics(ops::EventSink* sink, const core::Clock& clock, core::Room& rm) {
  if (!sink) return;
  const core::RoomCounters c = rm.counters(clock.now_s());
  publish_event(sink, clock, rm.name(), "waiting_room_metrics",
       {{"event_id", rm.name()}, {"num_active_tokens", c.active_sessions}, {"total_num_tokens", c.passes_issued},
        {"queue_counter", c.queue_counter}, {"serving_number", c.serving}, {"completed_sessions", c.completed},
        {"abandoned_sessions", c.abandoned}, {"waiting", c.waiting}, {"eligible", c.eligible}});
}

}  // namespace waitroom::store
