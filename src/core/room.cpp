#include "core/room.hpp"

#include <algorithm>
#include <cmath>

namespace waitroom::core {

namespace {
std::uint32_t to_u32_seconds(std::int64_t s) {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(s, 0, UINT32_MAX));
}

constexpr std::int64_t kProgressWindowMs = 60'000;
constexpr std::int64_t kProgressSampleMs = 1'000;
constexpr std::int64_t kMinObservedSpanMs = 5'000;
constexpr std::uint64_t kUnlimited = UINT64_MAX;
constexpr std::int64_t kAdmissionUnits = 60'000;  // rate bucket units per admission
// Waiting tickets checked for idleness per driver step: a million-ticket line is swept every
// five seconds, so counts and estimates stop including visitors who left.
constexpr std::uint64_t kSweepPerStep = 20'000;
}  // namespace

Room::Room(std::string name, RoomSettings settings)
    : name_(std::move(name)), settings_(std::move(settings)) {
  refresh_effective();
}

void Room::set_settings(RoomSettings settings) {
  settings_ = std::move(settings);
  refresh_effective();
}

void Room::refresh_effective() {
  AdmissionPolicy admission = settings_.admission;
  Queueing queueing = settings_.queueing;
  if (event_running_ && event_start_) {
    if (const ScheduledEvent* e = find_event(*event_start_)) {
      if (e->admission) admission = *e->admission;
      if (e->queueing) queueing = *e->queueing;
    }
  }
  if (queueing != Queueing::random) {
    pool_ = {};
    pool_built_ = false;
  }
  if (admission != admission_) bucket_ = 0;  // a new rate starts empty
  admission_ = admission;
  queueing_ = queueing;
}

const ScheduledEvent* Room::find_event(std::int64_t start_s) const {
  for (const ScheduledEvent& e : settings_.events)
    if (e.start_s == start_s) return &e;
  return nullptr;
}

Result<bool> Room::admits_on_arrival(std::int64_t now_s) {
  if (queueing_ == Queueing::reject)
    return fail(ErrorCode::conflict, "this room is closed: no new places are given");
  bool admits = false;
  if (settings_.state == RoomState::open && !prequeue_first_) {
    const AdmissionPolicy& a = admission_;
    if (queueing_ == Queueing::passthrough) {
      admits = true;
    } else if (a.mode == AdmissionMode::capacity && waiting_count() == 0 && policy_window_open(now_s)) {
      auto room = cap_room(now_s);
      admits = room && *room > 0;
    }
  }
  // Only those who would wait count against the cap: a visitor let in at once takes no place.
  if (const auto& cap = settings_.abuse.max_waiting;
      !admits && cap && waiting_count() >= static_cast<std::uint64_t>(*cap))
    return fail(ErrorCode::full, "this room is full: " + std::to_string(*cap) + " visitors are waiting already",
                kFullRetryAfterS);
  return admits;
}

Result<std::uint64_t> Room::enqueue(std::int64_t now_s, std::uint64_t count, std::uint8_t flags) {
  if (count == 0 || tickets_.size() + count > kMaxPosition)
    return fail(ErrorCode::conflict, "this room has handed out every position it can; reset it");
  const std::uint64_t first = tickets_.size() + 1;
  const bool nobody_waiting = waiting_count() == 0;
  TicketSlot slot{to_u32_seconds(now_s), to_u32_seconds(now_s), 0, TicketPhase::waiting, flags};
  tickets_.resize(tickets_.size() + count, slot);
  totals_.tickets_issued_total += count;
  for (std::uint64_t p = first; p < first + count; ++p) {
    if (flags & kAdmittedOnArrival) {
      // With nobody waiting every earlier position is passed, so the line's counter follows.
      if (nobody_waiting) cursor_ = std::max(cursor_, p);
      admit_position(p, now_s);
    } else if (p <= cursor_ && !prequeue_first_) {
      admit_position(p, now_s);  // the serving counter was already past the tail (AWS allows it)
    } else if (pool_built_ && !prequeue_first_) {
      pool_.push_back(p);
    }
  }
  return first;
}

bool Room::idle(const TicketSlot& slot, std::int64_t now_s) const {
  return slot.phase == TicketPhase::waiting && (slot.flags & kTracksPresence) &&
         settings_.ticket_idle_timeout_s > 0 &&
         now_s - static_cast<std::int64_t>(slot.last_seen_s) > settings_.ticket_idle_timeout_s;
}

// AWS's rule: the claim window starts when the ticket became eligible, or at entry if it already
// was; it is over when more than claim_timeout_s have passed.
bool Room::claim_expired(const TicketSlot& slot, std::int64_t now_s) const {
  if (slot.phase == TicketPhase::unclaimed) return true;
  if (slot.phase != TicketPhase::admitted || settings_.claim_timeout_s <= 0) return false;
  const std::int64_t since = std::max(slot.admitted_at_s, slot.entry_time_s);
  return now_s - since > settings_.claim_timeout_s;
}

void Room::mark_seen(std::uint64_t position, std::int64_t now_s) {
  if (!has_ticket(position)) return;
  TicketSlot& slot = tickets_[position - 1];
  if (!idle(slot, now_s)) slot.last_seen_s = to_u32_seconds(now_s);
}

void Room::refresh_presence(std::int64_t now_s) {
  for (TicketSlot& slot : tickets_) slot.last_seen_s = std::max(slot.last_seen_s, to_u32_seconds(now_s));
}

TicketState Room::ticket(std::uint64_t position, std::int64_t now_s) {
  const TicketSlot& slot = tickets_[position - 1];
  TicketState state;
  state.position = position;
  state.serving = cursor_;
  state.queue_length = tickets_.size();
  state.entry_time_s = slot.entry_time_s;
  state.last_seen_s = slot.last_seen_s;
  if (slot.phase == TicketPhase::admitted || slot.phase == TicketPhase::unclaimed)
    state.admitted_at_s = slot.admitted_at_s;
  if (const Session* s = session(position, now_s)) {
    state.status = ticket_status_of(s->status);
    state.has_pass = true;
  } else if (slot.phase == TicketPhase::admitted && !claim_expired(slot, now_s)) {
    state.status = TicketStatus::eligible;
  } else if (slot.phase != TicketPhase::waiting || idle(slot, now_s)) {
    state.status = TicketStatus::expired;
  } else {
    state.status = TicketStatus::waiting;
    if (in_prequeue(position)) {
      // Nobody's place is known until the pre-queue is shuffled at the start.
    } else if (queueing_ == Queueing::random) {
      state.eta = eta(waiting_count() > 0 ? waiting_count() - 1 : 0, now_s * 1000);
    } else {
      const std::uint64_t rank = rank_of(position);
      state.ahead = rank > cursor_ ? rank - cursor_ - 1 : 0;
      state.eta = eta(*state.ahead, now_s * 1000);
    }
  }
  return state;
}

std::optional<Eta> Room::eta_for_newcomer(std::int64_t now_ms) const {
  if (prequeue_first_) return std::nullopt;
  if (queueing_ == Queueing::random) return eta(waiting_count(), now_ms);
  return eta(tickets_.size() > cursor_ ? tickets_.size() - cursor_ : 0, now_ms);
}

// From the pace observed over the last minute: in line order, positions passed per second (gone
// visitors are passed too, so the distance in positions is what matters); in random order,
// admissions per second, each of which picks any one waiting ticket. Before there is a pace to
// observe, the configured rate stands in for it.
std::optional<Eta> Room::eta(std::uint64_t ahead, std::int64_t now_ms) const {
  const std::int64_t now_s = now_ms / 1000;
  const AdmissionPolicy& a = admission_;
  if (settings_.state != RoomState::open) return std::nullopt;
  if (a.mode != AdmissionMode::manual && a.end_s && now_s >= *a.end_s) return std::nullopt;
  if (a.mode != AdmissionMode::manual && a.start_s && now_s < *a.start_s) return std::nullopt;
  if (prequeue_first_) return std::nullopt;  // nobody moves until the start
  const bool random = queueing_ == Queueing::random;

  double per_s = 0;
  double low_per_s = 0;
  if (!progress_.empty() && progress_.back().at_ms - progress_.front().at_ms >= kMinObservedSpanMs) {
    const Progress& first = progress_.front();
    const Progress& last = progress_.back();
    const double span_s = static_cast<double>(last.at_ms - first.at_ms) / 1000.0;
    const auto moved = random ? last.admitted - first.admitted : last.cursor - first.cursor;
    per_s = static_cast<double>(moved) / span_s;
    // The slowest 10-second stretch of the window bounds the pessimistic estimate.
    low_per_s = per_s;
    for (std::size_t i = 0, j = 0; i < progress_.size(); ++i) {
      while (j < progress_.size() && progress_[j].at_ms - progress_[i].at_ms < 10'000) ++j;
      if (j == progress_.size()) break;
      const double s = static_cast<double>(progress_[j].at_ms - progress_[i].at_ms) / 1000.0;
      const auto m = random ? progress_[j].admitted - progress_[i].admitted : progress_[j].cursor - progress_[i].cursor;
      low_per_s = std::min(low_per_s, static_cast<double>(m) / s);
    }
  }
  if (per_s <= 0 && a.mode == AdmissionMode::rate && a.rate_per_minute) {
    per_s = static_cast<double>(*a.rate_per_minute) / 60.0;
    low_per_s = per_s;
  }
  if (per_s <= 0) return std::nullopt;
  low_per_s = std::clamp(low_per_s, per_s / 2, per_s);

  double p50 = 0;
  double p90 = 0;
  if (random) {
    // Each admission picks one of `ahead + 1` waiting tickets: the wait is about exponential.
    const double n = static_cast<double>(ahead + 1);
    p50 = std::log(2.0) * n / per_s;
    p90 = std::log(10.0) * n / low_per_s;
  } else {
    const double n = static_cast<double>(ahead + 1);
    p50 = n / per_s;
    p90 = std::max(n / low_per_s, p50 * 1.1);
  }
  return Eta{static_cast<std::int64_t>(std::ceil(p50)), static_cast<std::int64_t>(std::ceil(p90))};
}

bool Room::policy_window_open(std::int64_t now_s) const {
  const AdmissionPolicy& a = admission_;
  if (prequeue_first_) return false;  // the pre-queue waits for its start
  return !(a.start_s && now_s < *a.start_s) && !(a.end_s && now_s >= *a.end_s);
}

std::optional<std::uint64_t> Room::cap_room(std::int64_t now_s) {
  const AdmissionPolicy& a = admission_;
  expire_sessions(now_s);
  const std::uint64_t held = active_by_expiry_.size() + unclaimed_count_;
  auto left_of = [&](std::int64_t cap) {
    return static_cast<std::uint64_t>(cap) > held ? static_cast<std::uint64_t>(cap) - held : 0;
  };
  switch (a.mode) {
    case AdmissionMode::manual: return std::nullopt;
    case AdmissionMode::rate:
      if (a.max_active) return left_of(*a.max_active);
      return std::nullopt;
    case AdmissionMode::max_active: return left_of(*a.max_active);
    case AdmissionMode::capacity: {
      const std::uint64_t recent = admissions_since(now_s - 60);
      const std::uint64_t fresh =
          static_cast<std::uint64_t>(*a.new_per_minute) > recent ? *a.new_per_minute - recent : 0;
      return std::min(left_of(*a.total_active), fresh);
    }
  }
  return std::nullopt;
}

std::uint64_t Room::admissions_since(std::int64_t since_s) const {
  std::uint64_t n = 0;
  for (auto it = admitted_order_.rbegin(); it != admitted_order_.rend(); ++it, ++n)
    if (tickets_[*it - 1].admitted_at_s <= since_s) break;
  return n;
}

Admissions Room::tick(std::int64_t now_ms) {
  const std::int64_t now_s = now_ms / 1000;
  Admissions step;
  step.at_s = now_s;
  step.cursor_from = cursor_;
  step.cursor_to = cursor_;
  expire_sessions(now_s);
  expire_unclaimed(now_s, step);
  step_events(now_s, step);
  sweep_idle(now_s, step);
  const AdmissionPolicy& a = admission_;

  // The rate bucket fills only while the policy may admit, and holds at most one second's share,
  // so a line that was empty for a while is not flooded when visitors come back.
  const bool may_admit = settings_.state == RoomState::open && policy_window_open(now_s);
  // Integer units (1/60000 of an admission per ms per admission-per-minute) keep it exact.
  if (a.mode == AdmissionMode::rate && may_admit && bucket_at_ms_ > 0 && now_ms > bucket_at_ms_) {
    const std::int64_t ceiling = std::max<std::int64_t>(kAdmissionUnits, *a.rate_per_minute * 1000);
    bucket_ = std::min(ceiling, bucket_ + *a.rate_per_minute * (now_ms - bucket_at_ms_));
  }
  bucket_at_ms_ = now_ms;

  if (may_admit) {
    std::uint64_t n = 0;
    if (queueing_ == Queueing::passthrough) {
      n = kUnlimited;
    } else {
      switch (a.mode) {
        case AdmissionMode::manual: n = 0; break;
        case AdmissionMode::rate: n = static_cast<std::uint64_t>(bucket_ / kAdmissionUnits); break;
        case AdmissionMode::max_active:
        case AdmissionMode::capacity: n = kUnlimited; break;
      }
      if (n != kUnlimited) n += recycle_debt_;
      if (auto room = cap_room(now_s)) n = std::min(n, *room);
    }
    if (n > 0 && waiting_count() > 0) {
      const std::size_t before = step.admitted.size();
      admit_next(n, now_s, step);
      const std::uint64_t k = step.admitted.size() - before;
      const std::uint64_t from_debt = std::min(recycle_debt_, k);
      recycle_debt_ -= from_debt;
      step.recycled = from_debt;
      if (a.mode == AdmissionMode::rate)
        bucket_ = std::max<std::int64_t>(0, bucket_ - static_cast<std::int64_t>(k - from_debt) * kAdmissionUnits);
    }
  }
  // Nobody to let in: the bucket starts empty when visitors come, so no second carries more than
  // its share plus one.
  if (waiting_count() == 0) bucket_ = 0;
  if (!settings_.recycle_unclaimed) recycle_debt_ = 0;
  step.cursor_to = cursor_;
  record_progress(now_ms);
  return step;
}

void Room::observe(std::int64_t now_ms) {
  expire_sessions(now_ms / 1000);
  record_progress(now_ms);
}

void Room::admit_next(std::uint64_t n, std::int64_t now_s, Admissions& step) {
  std::uint64_t done = 0;
  if (queueing_ == Queueing::random) {
    if (!pool_built_) build_pool();
    while (done < n && !pool_.empty()) {
      const std::size_t i = std::uniform_int_distribution<std::size_t>(0, pool_.size() - 1)(rng_);
      const std::uint64_t p = pool_[i];
      pool_[i] = pool_.back();
      pool_.pop_back();
      TicketSlot& slot = tickets_[p - 1];
      if (slot.phase != TicketPhase::waiting) continue;
      step.changed = true;
      if (idle(slot, now_s)) {
        mark_left(p);
        step.left.push_back(p);
        continue;
      }
      admit_position(p, now_s);
      step.drawn.push_back(p);
      step.admitted.push_back(p);
      ++done;
    }
    return;
  }
  while (done < n && cursor_ < tickets_.size()) {
    const std::uint64_t p = position_at(++cursor_);
    step.changed = true;
    TicketSlot& slot = tickets_[p - 1];
    if (slot.phase != TicketPhase::waiting) continue;
    if (idle(slot, now_s)) {
      mark_left(p);
      step.left.push_back(p);
      continue;
    }
    admit_position(p, now_s);
    step.admitted.push_back(p);
    ++done;
  }
}

void Room::sweep_idle(std::int64_t now_s, Admissions& step) {
  if (settings_.ticket_idle_timeout_s <= 0 || waiting_count() == 0) return;
  if (sweep_next_ <= cursor_ || sweep_next_ > tickets_.size()) sweep_next_ = cursor_ + 1;
  for (std::uint64_t n = 0; n < kSweepPerStep && sweep_next_ <= tickets_.size(); ++n, ++sweep_next_) {
    if (idle(tickets_[sweep_next_ - 1], now_s)) {
      mark_left(sweep_next_);
      step.left.push_back(sweep_next_);
      step.changed = true;
    }
  }
}

void Room::admit_position(std::uint64_t position, std::int64_t at_s) {
  TicketSlot& slot = tickets_[position - 1];
  slot.phase = TicketPhase::admitted;
  slot.admitted_at_s = to_u32_seconds(std::max<std::int64_t>(at_s, slot.entry_time_s));
  admitted_order_.push_back(position);
  claim_queue_.push_back(position);
  ++unclaimed_count_;
}

void Room::raise_floor(std::uint64_t queue_counter, std::uint64_t serving, std::int64_t now_s) {
  queue_counter = std::min(queue_counter, kMaxPosition);
  if (queue_counter > tickets_.size()) {
    const std::uint64_t burned = queue_counter - tickets_.size();
    const TicketSlot slot{to_u32_seconds(now_s), to_u32_seconds(now_s), 0, TicketPhase::left, 0};
    tickets_.resize(queue_counter, slot);
    left_count_ += burned;
    totals_.tickets_issued_total += burned;
  }
  if (serving > cursor_) move_cursor(serving, now_s);
}

void Room::move_cursor(std::uint64_t to, std::int64_t at_s) {
  const std::uint64_t end = std::min<std::uint64_t>(to, tickets_.size());
  for (std::uint64_t r = cursor_ + 1; r <= end; ++r) {
    const std::uint64_t p = position_at(r);
    if (tickets_[p - 1].phase == TicketPhase::waiting) admit_position(p, at_s);
  }
  cursor_ = std::max(cursor_, to);
}

void Room::mark_left(std::uint64_t position) {
  TicketSlot& slot = tickets_[position - 1];
  if (slot.phase != TicketPhase::waiting) return;
  slot.phase = TicketPhase::left;
  ++left_count_;
}

void Room::mark_unclaimed(std::uint64_t position) {
  TicketSlot& slot = tickets_[position - 1];
  if (slot.phase != TicketPhase::admitted || sessions_.contains(position)) return;
  slot.phase = TicketPhase::unclaimed;
  --unclaimed_count_;
  ++unclaimed_expired_;
}

void Room::expire_unclaimed(std::int64_t now_s, Admissions& step) {
  while (!claim_queue_.empty()) {
    const std::uint64_t p = claim_queue_.front();
    const TicketSlot& slot = tickets_[p - 1];
    if (slot.phase == TicketPhase::admitted && !sessions_.contains(p)) {
      if (!claim_expired(slot, now_s)) break;  // admitted in order: the rest are younger
      mark_unclaimed(p);
      step.unclaimed.push_back(p);
      step.changed = true;
      if (settings_.recycle_unclaimed) ++recycle_debt_;
    }
    claim_queue_.pop_front();
  }
}

Result<Admissions> Room::advance_to(std::uint64_t serving, std::int64_t now_s) {
  if (serving > kMaxPosition) return fail(ErrorCode::bad_request, "serving counter out of range");
  if (queueing_ == Queueing::random)
    return fail(ErrorCode::conflict, "in random queueing there is no line order to advance to; use \"by\"");
  if (serving < cursor_)
    return fail(ErrorCode::conflict, "the serving counter never moves back (now " +
                                         std::to_string(cursor_) + ")");
  Admissions step;
  step.at_s = now_s;
  step.cursor_from = cursor_;
  const std::size_t before = admitted_order_.size();
  const std::uint64_t end = std::min<std::uint64_t>(serving, tickets_.size());
  for (std::uint64_t r = cursor_ + 1; r <= end; ++r) {
    const std::uint64_t p = position_at(r);
    if (idle(tickets_[p - 1], now_s)) {
      mark_left(p);
      step.left.push_back(p);
    }
  }
  move_cursor(serving, now_s);
  step.admitted.assign(admitted_order_.begin() + static_cast<std::ptrdiff_t>(before), admitted_order_.end());
  step.cursor_to = cursor_;
  step.changed = true;
  return step;
}

Result<Admissions> Room::advance_by(std::uint64_t by, std::int64_t now_s) {
  if (queueing_ == Queueing::random) {
    Admissions step;
    step.at_s = now_s;
    step.cursor_from = cursor_;
    admit_next(by, now_s, step);
    step.cursor_to = cursor_;
    step.changed = true;
    return step;
  }
  if (by > kMaxPosition - cursor_) return fail(ErrorCode::bad_request, "serving counter out of range");
  return advance_to(cursor_ + by, now_s);
}

void Room::apply(const Admissions& step) {
  for (std::uint64_t p : step.unclaimed)
    if (has_ticket(p)) mark_unclaimed(p);
  for (std::uint64_t p : step.left)
    if (has_ticket(p)) mark_left(p);
  if (step.cursor_to > cursor_) move_cursor(step.cursor_to, step.at_s);
  for (std::uint64_t p : step.drawn)
    if (has_ticket(p) && tickets_[p - 1].phase == TicketPhase::waiting) admit_position(p, step.at_s);
}

void Room::build_pool() {
  pool_.clear();
  for (std::uint64_t r = cursor_ + 1; r <= tickets_.size(); ++r) {
    const std::uint64_t p = position_at(r);
    if (tickets_[p - 1].phase == TicketPhase::waiting && !in_prequeue(p)) pool_.push_back(p);
  }
  pool_built_ = true;
}

void Room::record_progress(std::int64_t now_ms) {
  if (!progress_.empty() && now_ms - progress_.back().at_ms < kProgressSampleMs) return;
  // A paused stretch, or one with nobody waiting, says nothing about the pace of a line.
  if (settings_.state != RoomState::open || waiting_count() == 0 || prequeue_first_) progress_.clear();
  progress_.push_back(Progress{now_ms, cursor_, admitted_order_.size()});
  while (progress_.size() > 1 && now_ms - progress_.front().at_ms > kProgressWindowMs) progress_.pop_front();
}

void Room::reset(std::uint32_t new_epoch) {
  epoch_ = new_epoch;
  cursor_ = 0;
  tickets_ = {};
  admitted_order_ = {};
  left_count_ = 0;
  unclaimed_expired_ = 0;
  claim_queue_ = {};
  unclaimed_count_ = 0;
  recycle_debt_ = 0;
  sweep_next_ = 0;
  pool_ = {};
  pool_built_ = false;
  bucket_ = 0;
  progress_.clear();
  event_start_.reset();
  event_running_ = false;
  prequeue_first_.reset();
  draws_ = {};
  refresh_effective();
  sessions_ = {};
  active_by_expiry_.clear();
  // Stats start again with the epoch; only the lifetime totals (Prometheus counters) stay.
  const RoomCounters lifetime = totals_;
  totals_ = {};
  totals_.tickets_issued_total = lifetime.tickets_issued_total;
  totals_.passes_issued_total = lifetime.passes_issued_total;
}

Result<void> Room::check_pass_allowed(std::uint64_t position, std::int64_t now_s) {
  if (const Session* s = session(position, now_s)) {
    if (s->status == SessionStatus::active) return {};  // asking again returns the same pass
    return fail(ErrorCode::gone, "this ticket's session has ended (" +
                                     std::string(to_string(s->status)) + ")");
  }
  const TicketSlot& slot = tickets_[position - 1];
  if (claim_expired(slot, now_s))
    return fail(ErrorCode::gone, "this ticket expired: its pass was not claimed within " +
                                     std::to_string(settings_.claim_timeout_s) + " s of its turn");
  if (slot.phase == TicketPhase::left || idle(slot, now_s))
    return fail(ErrorCode::gone, "this ticket expired: its visitor was not seen for " +
                                     std::to_string(settings_.ticket_idle_timeout_s) + " s");
  if (slot.phase == TicketPhase::waiting) {
    if (queueing_ == Queueing::random)
      return fail(ErrorCode::conflict, "not your turn yet: waiting for the draw", kNotYetRetryAfterS);
    if (in_prequeue(position))
      return fail(ErrorCode::conflict, "the pre-queue has not started yet", kNotYetRetryAfterS);
    const std::uint64_t rank = rank_of(position);
    const std::uint64_t ahead = rank > cursor_ ? rank - cursor_ - 1 : 0;
    return fail(ErrorCode::conflict, "not your turn yet: " + std::to_string(ahead) + " ahead of you",
                kNotYetRetryAfterS);
  }
  if (paused()) return fail(ErrorCode::conflict, "the room is paused", kNotYetRetryAfterS);
  return {};
}

const Session* Room::session(std::uint64_t position, std::int64_t now_s) {
  auto it = sessions_.find(position);
  if (it == sessions_.end()) return nullptr;
  if (it->second.status == SessionStatus::active && it->second.expires_at_s <= now_s)
    expire_sessions(now_s);
  return &it->second;
}

const Session& Room::add_session(std::uint64_t position, Session session) {
  auto [it, inserted] = sessions_.try_emplace(position, std::move(session));
  if (inserted) {
    TicketSlot& slot = tickets_[position - 1];
    if (slot.phase == TicketPhase::admitted) {
      --unclaimed_count_;
    } else {  // a record written before admissions were logged: the pass implies the admission
      if (slot.phase == TicketPhase::left) --left_count_;
      if (slot.phase == TicketPhase::unclaimed) --unclaimed_expired_;
      slot.phase = TicketPhase::admitted;
      slot.admitted_at_s = to_u32_seconds(it->second.issued_at_s);
      admitted_order_.push_back(position);
    }
    ++totals_.passes_issued;
    ++totals_.passes_issued_total;
    if (it->second.status == SessionStatus::active)
      active_by_expiry_.emplace(it->second.expires_at_s, position);
    else
      count_end(it->second.status);
  }
  return it->second;
}

Result<void> Room::renew_session(std::uint64_t position, std::string pass, std::int64_t expires_at_s,
                                 std::uint64_t lsn, bool revive) {
  auto it = sessions_.find(position);
  if (it == sessions_.end()) return fail(ErrorCode::conflict, "no pass has been issued for this ticket");
  Session& s = it->second;
  if (s.status == SessionStatus::expired && revive) {
    --totals_.expired;
    s.status = SessionStatus::active;
  } else if (s.status != SessionStatus::active) {
    return fail(ErrorCode::gone, "the session has ended (" + std::string(to_string(s.status)) + ")");
  } else {
    unindex_active(position, s.expires_at_s);
  }
  s.previous_pass = std::move(s.pass);
  s.previous_expires_at_s = s.expires_at_s;
  s.pass = std::move(pass);
  s.expires_at_s = expires_at_s;
  s.lsn = lsn;
  active_by_expiry_.emplace(expires_at_s, position);
  return {};
}

void Room::unindex_active(std::uint64_t position, std::int64_t expires_at_s) {
  auto range = active_by_expiry_.equal_range(expires_at_s);
  for (auto i = range.first; i != range.second; ++i) {
    if (i->second == position) {
      active_by_expiry_.erase(i);
      return;
    }
  }
}

Result<bool> Room::end_session(std::uint64_t position, SessionStatus status, std::int64_t now_s) {
  auto it = sessions_.find(position);
  if (it == sessions_.end())
    return fail(ErrorCode::conflict, "no pass has been issued for this ticket");
  Session& s = it->second;
  if (s.status == SessionStatus::active && s.expires_at_s <= now_s) expire_sessions(now_s);
  if (s.status == status) return false;
  if (s.status != SessionStatus::active)
    return fail(ErrorCode::conflict,
                "the session has already ended (" + std::string(to_string(s.status)) + ")");
  unindex_active(position, s.expires_at_s);
  s.status = status;
  count_end(status);
  return true;
}

RoomCounters Room::counters(std::int64_t now_s) {
  expire_sessions(now_s);
  RoomCounters c = totals_;
  c.queue_counter = tickets_.size();
  c.serving = cursor_;
  c.waiting = waiting_count();
  c.eligible = unclaimed_count_;
  c.admitted = admitted_order_.size();
  c.tickets_expired = left_count_ + unclaimed_expired_;
  c.active_sessions = active_by_expiry_.size();
  return c;
}

std::vector<std::uint64_t> Room::expired_positions(std::int64_t now_s) {
  expire_sessions(now_s);
  std::vector<std::uint64_t> out;
  for (const auto& [position, s] : sessions_)
    if (s.status == SessionStatus::expired) out.push_back(position);
  std::sort(out.begin(), out.end());
  return out;
}

void Room::expire_sessions(std::int64_t now_s) {
  while (!active_by_expiry_.empty() && active_by_expiry_.begin()->first <= now_s) {
    auto it = sessions_.find(active_by_expiry_.begin()->second);
    if (it != sessions_.end()) {
      it->second.status = SessionStatus::expired;
      count_end(SessionStatus::expired);
    }
    active_by_expiry_.erase(active_by_expiry_.begin());
  }
}

void Room::count_end(SessionStatus status) {
  switch (status) {
    case SessionStatus::completed: ++totals_.completed; break;
    case SessionStatus::abandoned: ++totals_.abandoned; break;
    case SessionStatus::revoked: ++totals_.revoked; break;
    case SessionStatus::expired: ++totals_.expired; break;
    case SessionStatus::active: break;
  }
}

// Compares where the room is with where its schedule says it should be, and moves it there one
// logged moment at a time (a room that was down through a pre-queue opens and starts it at once).
void Room::step_events(std::int64_t now_s, Admissions& step) {
  const ScheduledEvent* due = nullptr;
  for (const ScheduledEvent& e : settings_.events)
    if (e.opens_s() <= now_s && (!e.end_s || now_s < *e.end_s)) due = &e;
  auto emit = [&](EventTransition t) {
    t.at_s = now_s;
    apply(t);
    step.transitions.push_back(t);
  };
  if (event_start_) {
    // The event the room is in ends when its end passes or it is taken off the schedule, not when
    // the clock steps back before its opening.
    const ScheduledEvent* current = find_event(*event_start_);
    const bool over = !current || (current->end_s && now_s >= *current->end_s) || (due && due != current);
    if (!over) due = current;
    else emit({EventTransition::Kind::ended, *event_start_});
  }
  if (!due) return;
  if (!event_start_ && due->prequeue_start_s) {
    EventTransition t{EventTransition::Kind::prequeue_opened, due->start_s};
    t.seed = new_seed();
    // Only visitors who join after the commitment is published are shuffled (an event added
    // late opens now, not at its prequeue_start).
    t.first = tickets_.size() + 1;
    emit(t);
  }
  if (now_s >= due->start_s && (!event_start_ || !event_running_)) {
    EventTransition t{EventTransition::Kind::started, due->start_s};
    t.last = first_entered_at_or_after(due->start_s) - 1;
    emit(t);
  }
}

void Room::apply(const EventTransition& t) {
  using Kind = EventTransition::Kind;
  pool_ = {};  // the random pool leaves the pre-queue out; rebuild it with the new phase
  pool_built_ = false;
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
      draws_.push_back(std::move(d));
      break;
    }
    case Kind::started: {
      event_start_ = t.event_start_s;
      event_running_ = true;
      prequeue_first_.reset();
      if (!draws_.empty() && draws_.back().info.event_start_s == t.event_start_s && !draws_.back().info.started_at_s) {
        Draw& d = draws_.back();
        d.info.started_at_s = t.at_s;
        d.info.seed = seed_hex(d.seed);
        d.info.last_position = t.last;
        // Positions the serving counter already passed keep their turn; the rest are shuffled.
        d.info.shuffled_first = std::max(d.info.first_position, cursor_ + 1);
        d.order = draw_order(d.seed, d.info.shuffled_first, t.last);
        d.rank.assign(d.order.size(), 0);
        for (std::size_t i = 0; i < d.order.size(); ++i) d.rank[d.order[i] - d.info.shuffled_first] = d.info.shuffled_first + i;
      }
      break;
    }
    case Kind::ended:
      event_start_.reset();
      event_running_ = false;
      prequeue_first_.reset();
      break;
  }
  refresh_effective();
}

std::uint64_t Room::position_at(std::uint64_t rank) const {
  for (const Draw& d : draws_)
    if (!d.order.empty() && rank >= d.info.shuffled_first && rank < d.info.shuffled_first + d.order.size())
      return d.order[rank - d.info.shuffled_first];
  return rank;
}

std::uint64_t Room::rank_of(std::uint64_t position) const {
  for (const Draw& d : draws_)
    if (!d.rank.empty() && position >= d.info.shuffled_first && position < d.info.shuffled_first + d.rank.size())
      return d.rank[position - d.info.shuffled_first];
  return position;
}

std::uint64_t Room::first_entered_at_or_after(std::int64_t s) const {
  auto it = std::partition_point(tickets_.begin(), tickets_.end(), [s](const TicketSlot& slot) {
    return static_cast<std::int64_t>(slot.entry_time_s) < s;
  });
  return static_cast<std::uint64_t>(it - tickets_.begin()) + 1;
}

std::optional<EventStatus> Room::event_status(std::int64_t now_s) const {
  if (event_start_) {
    if (const ScheduledEvent* e = find_event(*event_start_))
      return EventStatus{event_running_ ? "running" : "prequeue", *e};
  }
  for (const ScheduledEvent& e : settings_.events)
    if (e.opens_s() > now_s) return EventStatus{"scheduled", e};
  return std::nullopt;
}

std::vector<DrawInfo> Room::draws() const {
  std::vector<DrawInfo> out;
  for (const Draw& d : draws_) out.push_back(d.info);
  return out;
}

}  // namespace waitroom::core
