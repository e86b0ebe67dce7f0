#include "core/event_schedule.hpp"

#include <algorithm>
#include <utility>

#include "core/room_image.hpp"

namespace waitroom::core {

namespace {
const ScheduledEvent* find_event(const ScheduledEvents& events, std::int64_t start_s) {
  for (const ScheduledEvent& e : events)
    if (e.start_s == start_s) return &e;
  return nullptr;
}
}  // namespace

// Decides on a copy of the phase (which event, running or not), as applying each moment would
// leave it, so the list comes out in one call without touching the schedule.
std::vector<EventTransition> EventSchedule::due(const ScheduledEvents& events,
                                                std::int64_t now_s) const {
  using Kind = EventTransition::Kind;
  std::vector<EventTransition> out;
  const ScheduledEvent* due = nullptr;
  for (const ScheduledEvent& e : events)
    if (e.opens_s() <= now_s && (!e.end_s || now_s < *e.end_s)) due = &e;
  std::optional<std::int64_t> event_start = event_start_;
  bool running = event_running_;
  if (event_start) {
    // The event the room is in ends when its end passes or it is taken off the schedule, not when
    // the clock steps back before its opening.
    const ScheduledEvent* current = find_event(events, *event_start);
    const bool over =
        !current || (current->end_s && now_s >= *current->end_s) || (due && due != current);
    if (!over) {
      due = current;
    } else {
      out.push_back({Kind::ended, *event_start});
      event_start.reset();
      running = false;
    }
  }
  if (!due) return out;
  if (!event_start && due->prequeue_start_s) {
    out.push_back({Kind::prequeue_opened, due->start_s});
    event_start = due->start_s;
    running = false;
  }
  if (now_s >= due->start_s && (!event_start || !running))
    out.push_back({Kind::started, due->start_s});
  return out;
}

void EventSchedule::apply(const EventTransition& t, std::uint64_t serving) {
  using Kind = EventTransition::Kind;
  switch (t.kind) {
    case Kind::prequeue_opened: {
      event_start_ = t.event_start_s;
      event_running_ = false;
      prequeue_first_ = t.first;
      Draw d;
      d.seed = t.seed;
      d.info.event_start_s = t.event_start_s;
      d.info.opened_at_s = t.at_s;
      d.info.commitment = commitment_hex(t.seed);
      d.info.first_position = t.first;
      if (t.winners > 0) d.info.winners = t.winners;
      draws_.push_back(std::move(d));
      break;
    }
    case Kind::started:
      event_start_ = t.event_start_s;
      event_running_ = true;
      prequeue_first_.reset();
      start_draw(t, serving);
      break;
    case Kind::ended:
      event_start_.reset();
      event_running_ = false;
      prequeue_first_.reset();
      break;
  }
}

// Publishes the seed and shuffles the pre-queue of the event that starts, if it had one.
void EventSchedule::start_draw(const EventTransition& t, std::uint64_t serving) {
  if (draws_.empty() || draws_.back().info.event_start_s != t.event_start_s ||
      draws_.back().info.started_at_s)
    return;
  Draw& d = draws_.back();
  d.info.started_at_s = t.at_s;
  d.info.seed = seed_hex(d.seed);
  d.info.last_position = t.last;
  // Positions the serving counter already passed keep their turn; the rest are shuffled.
  d.info.shuffled_first = std::max(d.info.first_position, serving + 1);
  if (!d.info.winners && t.winners > 0) d.info.winners = t.winners;
  shuffle(d);
}

void EventSchedule::shuffle(Draw& d) {
  d.order = draw_order(d.seed, d.info.shuffled_first, d.info.last_position);
  d.rank.assign(d.order.size(), 0);
  for (std::size_t i = 0; i < d.order.size(); ++i)
    d.rank[d.order[i] - d.info.shuffled_first] = d.info.shuffled_first + i;
}

ScheduleImage EventSchedule::image() const {
  ScheduleImage out{event_start_, event_running_, prequeue_first_, {}};
  for (const Draw& d : draws_) out.draws.push_back(DrawImage{d.info, d.seed});
  return out;
}

EventSchedule EventSchedule::restore(const ScheduleImage& image) {
  EventSchedule s;
  s.event_start_ = image.event_start;
  s.event_running_ = image.event_running;
  s.prequeue_first_ = image.prequeue_first;
  for (const DrawImage& di : image.draws) {
    Draw d;
    d.info = di.info;
    d.seed = di.seed;
    if (d.info.started_at_s) shuffle(d);  // the same order the start drew, from the same seed
    s.draws_.push_back(std::move(d));
  }
  return s;
}

const DrawInfo* EventSchedule::running_drawing() const {
  if (!event_running_ || !event_start_ || draws_.empty()) return nullptr;
  const DrawInfo& d = draws_.back().info;
  if (d.event_start_s != *event_start_ || !d.started_at_s || !d.winners) return nullptr;
  return &d;
}

const ScheduledEvent* EventSchedule::current(const ScheduledEvents& events) const {
  return event_start_ ? find_event(events, *event_start_) : nullptr;
}

const ScheduledEvent* EventSchedule::running(const ScheduledEvents& events) const {
  if (!event_running_ || !event_start_) return nullptr;
  return find_event(events, *event_start_);
}

std::optional<EventStatus> EventSchedule::status(const ScheduledEvents& events,
                                                 std::int64_t now_s) const {
  if (event_start_) {
    if (const ScheduledEvent* e = find_event(events, *event_start_))
      return EventStatus{event_running_ ? "running" : "prequeue", *e, shuffled_from(e->start_s)};
  }
  for (const ScheduledEvent& e : events)
    if (e.opens_s() > now_s) return EventStatus{"scheduled", e, std::nullopt};
  return std::nullopt;
}

// Before the start the pre-queue's first position; after it, the first one actually shuffled
// (later if an operator had admitted part of the pre-queue by then).
std::optional<std::uint64_t> EventSchedule::shuffled_from(std::int64_t event_start_s) const {
  for (const Draw& d : draws_)
    if (d.info.event_start_s == event_start_s)
      return d.info.started_at_s ? d.info.shuffled_first : d.info.first_position;
  return std::nullopt;
}

std::vector<DrawInfo> EventSchedule::draws() const {
  std::vector<DrawInfo> out;
  for (const Draw& d : draws_) out.push_back(d.info);
  return out;
}

std::uint64_t EventSchedule::position_at(std::uint64_t rank) const {
  for (const Draw& d : draws_)
    if (!d.order.empty() && rank >= d.info.shuffled_first &&
        rank < d.info.shuffled_first + d.order.size())
      return d.order[rank - d.info.shuffled_first];
  return rank;
}

std::uint64_t EventSchedule::rank_of(std::uint64_t position) const {
  for (const Draw& d : draws_)
    if (!d.rank.empty() && position >= d.info.shuffled_first &&
        position < d.info.shuffled_first + d.rank.size())
      return d.rank[position - d.info.shuffled_first];
  return position;
}

}  // namespace waitroom::core
