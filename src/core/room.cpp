#include "core/room.hpp"

#include <algorithm>
#include <utility>

#include "core/admission/registry.hpp"

namespace waitroom::core {

namespace {
// Waiting tickets checked for idleness per driver step: a million-ticket line is swept every
// five seconds, so counts and estimates stop including visitors who left.
constexpr std::uint64_t kSweepPerStep = 20'000;
}  // namespace

std::string_view to_string(DrawStanding standing) {
  switch (standing) {
    case DrawStanding::none:
      return "none";
    case DrawStanding::registered:
      return "registered";
    case DrawStanding::won:
      return "won";
    case DrawStanding::waitlist:
      return "waitlist";
  }
  return "none";
}

constexpr const char* kSoldOutAdvance =
    "the room is sold out: nobody is let in until items come back (POST .../inventory)";

// Answers the admission policy's questions from the room's own state, at `now_s`.
class Room::Facts final : public RoomFacts {
 public:
  Facts(Room& room, std::int64_t now_s) : room_(room), now_s_(now_s) {}

  std::uint64_t waiting() const override { return room_.waiting_count(); }
  // In seats: a party's place counts as its size.
  std::uint64_t held() override { return room_.held(now_s_); }
  std::uint64_t admitted_after(std::int64_t since_s) const override {
    return room_.admissions_since(since_s);
  }
  std::optional<std::uint64_t> active_limit() const override { return room_.active_limit(); }
  double no_show_share() const override { return room_.no_show_share(); }

 private:
  Room& room_;
  std::int64_t now_s_;
};

std::uint32_t Room::to_u32_seconds(std::int64_t s) {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(s, 0, UINT32_MAX));
}

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
  if (const ScheduledEvent* e = schedule_.running(settings_.events)) {
    if (e->admission) admission = *e->admission;
    if (e->queueing) queueing = *e->queueing;
  }
  if (queueing != Queueing::random) {
    pool_ = {};
    pool_built_ = false;
    drawn_party_.reset();
  }
  if (admission != admission_) {
    bucket_.units = 0;  // a new rate starts empty
    bucket_.floor_units = 0;
    pace_.clear();  // and the old policy's pace says nothing about the new one's
  }
  if (!admitter_ || admission != admission_ || queueing != queueing_)
    admitter_ = make_admitter(admission, queueing);
  // A limit found for adaptive admission says nothing under another policy (replay clears it at
  // the same record, so every copy of the room agrees).
  if (admission.mode != AdmissionMode::adaptive) controller_ = {};
  admission_ = admission;
  queueing_ = queueing;
}

Result<bool> Room::admits_on_arrival(std::int64_t now_s, std::uint64_t seats) {
  if (queueing_ == Queueing::reject)
    return fail(ErrorCode::conflict, "this room is closed: no new places are given");
  if (const DrawInfo* d = running_drawing())
    return fail(ErrorCode::conflict,
                "this drawing's registration closed at its start: " + std::to_string(*d->winners) +
                    " winners were drawn from those who registered");
  if (sold_out())
    return fail(ErrorCode::gone,
                "sold out: every item of this sale is sold; no new places are "
                "given unless items come back");
  bool admits = false;
  if (settings_.state == RoomState::open && !schedule_.prequeue_open()) {
    Facts facts(*this, now_s);
    admits = admitter_->admits_on_arrival(now_s, seats, facts);
    if (const std::optional<std::uint64_t> left = inventory_places_left(now_s); admits && left)
      admits = *left >= seats;
  }
  // Only those who would wait count against the cap: a visitor let in at once takes no place.
  if (const auto& cap = settings_.abuse.max_waiting;
      !admits && cap && waiting_count() >= static_cast<std::uint64_t>(*cap))
    return fail(ErrorCode::full,
                "this room is full: " + std::to_string(*cap) + " visitors are waiting already",
                kFullRetryAfterS);
  return admits;
}

Result<std::uint64_t> Room::enqueue(std::int64_t now_s, std::uint64_t count, std::uint8_t flags,
                                    std::uint8_t lane, std::uint8_t party) {
  if (count == 0 || tickets_.size() + count > kMaxPosition)
    return fail(ErrorCode::conflict, "this room has handed out every position it can; reset it");
  if (lane > kMaxLanes) return fail(ErrorCode::bad_request, "no such lane");
  if (party < 1 || party > kMaxPartySize) return fail(ErrorCode::bad_request, "no such party size");
  const std::uint64_t first = tickets_.size() + 1;
  const bool nobody_waiting = waiting_count() == 0;
  TicketSlot slot{
      to_u32_seconds(now_s), to_u32_seconds(now_s), 0, TicketPhase::waiting, flags, lane, party};
  tickets_.resize(tickets_.size() + count, slot);
  totals_.tickets_issued_total += count;
  waiting_extra_seats_ += count * (party - 1u);
  if (lane != kDefaultLane) {
    lane_waiting_[lane] += count;
    lane_tickets_ += count;
    for (std::uint64_t p = first; p < first + count; ++p) {
      // The tail's ranks are after every other: the lane's line and the tallies stay in order.
      if (lane_lines_built_) lane_lines_[lane - 1].positions.push_back(p);
      if (tally_built_) {
        tally_.add(schedule_.rank_of(p));
        lane_tally_.add(schedule_.rank_of(p));
      }
    }
  }
  for (std::uint64_t p = first; p < first + count; ++p) {
    if (flags & kAdmittedOnArrival) {
      // With nobody waiting every earlier position is passed, so the line's counter follows.
      if (nobody_waiting) serving_ = std::max(serving_, p);
      admit_position(p, now_s);
    } else if (p <= serving_ && lane == kDefaultLane && !schedule_.prequeue_open()) {
      admit_position(p, now_s);  // the serving counter was already past the tail (AWS allows it)
    } else if (pool_built_ && !schedule_.prequeue_open()) {
      pool_.push_back(p);
    }
  }
  return first;
}

bool Room::idle(const TicketSlot& slot, std::int64_t now_s) const {
  if (slot.phase != TicketPhase::waiting || !(slot.flags & kTracksPresence) ||
      settings_.ticket_idle_timeout_s <= 0)
    return false;
  const std::int64_t away = now_s - static_cast<std::int64_t>(slot.last_seen_s);
  if (away <= settings_.ticket_idle_timeout_s) return false;
  // A visitor who asked to be notified may leave the page: the place waits up to away_max_s.
  if (settings_.away_max_s > 0 && !notices_.empty() &&
      notices_.find(static_cast<std::uint64_t>(&slot - tickets_.data()) + 1))
    return away > settings_.away_max_s;
  return true;
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
  for (TicketSlot& slot : tickets_)
    slot.last_seen_s = std::max(slot.last_seen_s, to_u32_seconds(now_s));
}

TicketState Room::ticket(std::uint64_t position, std::int64_t now_s) {
  const TicketSlot& slot = tickets_[position - 1];
  TicketState state;
  state.position = position;
  state.serving = serving_;
  state.queue_length = tickets_.size();
  state.entry_time_s = slot.entry_time_s;
  state.last_seen_s = slot.last_seen_s;
  state.lane = slot.lane;
  state.party_size = slot.party;
  if (slot.lane != kDefaultLane) state.lane_name = lane_name(settings_.lanes, slot.lane);
  if (slot.phase == TicketPhase::admitted || slot.phase == TicketPhase::unclaimed)
    state.admitted_at_s = slot.admitted_at_s;
  const DrawInfo* drawing = running_drawing();
  if (drawing && !drawing->drawn(position)) drawing = nullptr;
  if (drawing && slot.phase == TicketPhase::admitted) state.drawing = DrawStanding::won;
  if (const Session* s = session(position, now_s)) {
    state.status = s->status;
    state.has_pass = true;
  } else if (slot.phase == TicketPhase::admitted && !claim_expired(slot, now_s)) {
    state.status = TicketStatus::eligible;
  } else if (slot.phase != TicketPhase::waiting || idle(slot, now_s)) {
    state.status = TicketStatus::expired;
  } else {
    state.status = TicketStatus::waiting;
    state.sold_out = sold_out();
    if (schedule_.in_prequeue(position)) {
      // Nobody's place is known until the pre-queue is shuffled at the start.
      const ScheduledEvent* event = schedule_.current(settings_.events);
      if (schedule_.registering() && event && event->queueing == Queueing::draw)
        state.drawing = DrawStanding::registered;
    } else if (queueing_ == Queueing::random) {
      state.eta = eta(waiting_count() > 0 ? waiting_count() - 1 : 0, now_s * 1000);
    } else if (slot.lane != kDefaultLane) {
      // Its lane's line: those before it that are not known to be admitted or gone. (Gone ones
      // are passed at no cost, so the estimate may run a little long while visitors leave.)
      const std::uint8_t lane = slot.lane;
      skip_stopped_in_lane(lane);
      const std::size_t at = lane_index_of(position);
      const std::size_t next = lane_lines_[lane - 1].next;
      state.ahead = at > next ? at - next : 0;
      if (pace_hint(now_s * 1000))
        state.eta = eta(in_whole_line(*state.ahead, share_of(lane)), now_s * 1000);
    } else {
      const std::uint64_t rank = schedule_.rank_of(position);
      state.ahead = rank > serving_ ? rank - serving_ - 1 : 0;
      // Other lanes' tickets are not ahead in this line, whatever their rank.
      if (lane_tickets_ > 0) *state.ahead -= lane_tickets_between(serving_ + 1, rank - 1);
      // The places of visitors who left are passed at no cost: only the waiting ones count.
      if (pace_hint(now_s * 1000))
        state.eta =
            eta(in_whole_line(waiting_between(serving_ + 1, rank - 1), share_of(kDefaultLane)),
                now_s * 1000);
      if (drawing) {
        // The drawn ones still waiting before it take the turns left first (its drawn block of
        // ranks is shuffled_first..last_position); beyond those it is on the waitlist.
        const std::uint64_t before = waiting_between(drawing->shuffled_first, rank - 1);
        const std::uint64_t turns = *drawing_turns_left();
        if (before < turns) {
          state.drawing = DrawStanding::won;
        } else {
          state.drawing = DrawStanding::waitlist;
          state.waitlist_position = before - turns + 1;
          state.eta.reset();  // whether a winner's turn comes free is not known
        }
      }
    }
  }
  if (state.sold_out) state.eta.reset();  // no turn comes unless items come back
  if (const Notice* n = notices_.empty() ? nullptr : notices_.find(position)) {
    state.notice = *n;
    state.notice->contact.clear();
    // Only where visitors who stop asking lose their place (AWS's tickets never do).
    if (state.status == TicketStatus::waiting && (slot.flags & kTracksPresence) &&
        settings_.ticket_idle_timeout_s > 0)
      state.away_until_s = static_cast<std::int64_t>(slot.last_seen_s) +
                           std::max(settings_.away_max_s, settings_.ticket_idle_timeout_s);
  }
  return state;
}

Result<void> Room::set_notice(std::uint64_t position, Notice notice, std::int64_t now_s) {
  if (!has_ticket(position)) return fail(ErrorCode::not_found, "no such ticket");
  const TicketSlot& slot = tickets_[position - 1];
  if (slot.phase != TicketPhase::waiting || idle(slot, now_s))
    return fail(ErrorCode::conflict,
                "only a waiting ticket can be notified: this one's turn came or it left the line");
  notices_.set(position, std::move(notice));
  return {};
}

std::vector<std::uint64_t> Room::notices_due(std::int64_t now_ms) {
  std::vector<std::uint64_t> due;
  const std::int64_t now_s = now_ms / 1000;
  if (notices_.awaiting_near().empty() || now_s == notices_checked_s_) return due;
  notices_checked_s_ = now_s;
  const auto before_s = settings_.notify_before_s;
  const auto ahead_max = static_cast<std::uint64_t>(settings_.notify_ahead);
  // Copied: marking one due changes the set.
  const std::vector<std::uint64_t> awaiting(notices_.awaiting_near().begin(),
                                            notices_.awaiting_near().end());
  for (std::uint64_t p : awaiting) {
    const TicketState t = ticket(p, now_s);
    if (t.status != TicketStatus::waiting) continue;
    const bool near = (before_s > 0 && t.eta && t.eta->p90_s <= before_s) ||
                      (ahead_max > 0 && t.ahead && *t.ahead <= ahead_max);
    if (near) {
      due.push_back(p);
      notices_.mark_due(p, NoticeKind::turn_near);
    } else if (queueing_ == Queueing::fifo && t.lane == kDefaultLane && t.ahead &&
               !schedule_.in_prequeue(p) && lane_tickets_ == 0) {
      // In one line in line order, those behind are further still.
      break;
    }
  }
  return due;
}

std::optional<Eta> Room::eta_for_newcomer(std::int64_t now_ms, std::uint8_t lane) const {
  if (schedule_.prequeue_open() || sold_out()) return std::nullopt;
  // Everyone waiting is ahead of a newcomer, in either order; with lanes, everyone in the lane.
  if (lane_tickets_ == 0 && lane == kDefaultLane) return eta(waiting_count(), now_ms);
  return eta(in_whole_line(waiting_in_lane(lane), share_of(lane)), now_ms);
}

std::uint64_t Room::waiting_in_lane(std::uint8_t lane) const {
  if (lane != kDefaultLane) return lane <= kMaxLanes ? lane_waiting_[lane] : 0;
  std::uint64_t others = 0;
  for (std::size_t i = 1; i <= kMaxLanes; ++i) others += lane_waiting_[i];
  return waiting_count() - others;
}

LaneFlags Room::lanes_busy() const {
  LaneFlags busy{};
  for (std::uint8_t i = 0; i <= kMaxLanes; ++i) busy[i] = waiting_in_lane(i) > 0;
  return busy;
}

bool Room::has_lane_waiting() const {
  for (std::size_t i = 1; i <= kMaxLanes; ++i)
    if (lane_waiting_[i] > 0) return true;
  return false;
}

double Room::share_of(std::uint8_t lane) const {
  if (settings_.lanes.empty()) return 1;
  LaneFlags busy = lanes_busy();
  busy[lane] = true;  // the visitor asking waits there
  const double share = effective_shares(settings_.lanes, busy)[lane];
  return share > 0 ? share : 1;  // a lane that lost its setting is served first
}

std::optional<PaceHint> Room::pace_hint(std::int64_t now_ms) const {
  if (settings_.state != RoomState::open) return std::nullopt;
  if (schedule_.prequeue_open()) return std::nullopt;  // nobody moves until the start
  const PaceHint hint = admitter_->pace(now_ms / 1000);
  if (hint.halted) return std::nullopt;
  return hint;
}

std::optional<Eta> Room::eta(std::uint64_t ahead, std::int64_t now_ms) const {
  const std::optional<PaceHint> hint = pace_hint(now_ms);
  if (!hint) return std::nullopt;
  // A configured rate counts seats, the line moves by tickets: parties make it move slower.
  double assumed_per_s = hint->assumed_per_s;
  if (waiting_extra_seats_ > 0 && waiting_count() > 0)
    assumed_per_s *= static_cast<double>(waiting_count()) /
                     static_cast<double>(waiting_count() + waiting_extra_seats_);
  return pace_.estimate(ahead, queueing_ == Queueing::random, assumed_per_s);
}

bool Room::policy_window_open(std::int64_t now_s) const {
  if (schedule_.prequeue_open()) return false;  // the pre-queue waits for its start
  return admitter_->window_open(now_s);
}

std::uint64_t Room::admissions_since(std::int64_t since_s) const {
  std::uint64_t n = 0;
  for (auto it = admitted_order_.rbegin(); it != admitted_order_.rend(); ++it) {
    const TicketSlot& slot = tickets_[*it - 1];
    if (slot.admitted_at_s <= since_s) break;
    n += slot.party;
  }
  return n;
}

Admissions Room::tick(std::int64_t now_ms, const HealthReading* health) {
  const std::int64_t now_s = now_ms / 1000;
  Admissions step;
  step.at_s = now_s;
  step.serving_from = serving_;
  step.serving_to = serving_;
  expire_sessions(now_s);
  expire_unclaimed(now_s, step);
  step_events(now_s, step);
  sweep_idle(now_s, step);
  const bool admitting = settings_.state == RoomState::open && policy_window_open(now_s);
  // The controller steers only while its limit matters: the room admits and visitors wait.
  if (admission_.mode == AdmissionMode::adaptive && admitting && waiting_count() > 0)
    step.adjusted =
        decide(admission_, health ? *health : HealthReading{}, held(now_s),
               static_cast<std::uint64_t>(settings_.max_party_size), controller_, now_s);
  if (admitting) admit_by_policy(now_ms, step);
  bucket_.at_ms = now_ms;  // a paced policy's bucket fills from one step to the next
  // Nobody to let in: the bucket starts empty when visitors come, so no second carries more than
  // its share plus one.
  if (waiting_count() == 0) bucket_.units = bucket_.floor_units = 0;
  if (!settings_.recycle_unclaimed) recycle_debt_ = 0;
  step.serving_to = serving_;
  record_pace(now_ms);
  return step;
}

std::uint64_t Room::held(std::int64_t now_s) {
  expire_sessions(now_s);
  return active_by_expiry_.size() + unclaimed_count_ + held_extra_seats_;
}

std::optional<std::uint64_t> Room::inventory_places_left(std::int64_t now_s) {
  if (!inventory_) return std::nullopt;
  if (*inventory_ == 0) return 0;
  const auto reserve = static_cast<std::uint64_t>(settings_.reserve_per_session);
  if (reserve == 0) return std::nullopt;
  // A last place for fewer items than a reserve.
  const std::uint64_t places = (*inventory_ + reserve - 1) / reserve;
  return places_left(static_cast<std::int64_t>(places), held(now_s));
}

std::uint64_t Room::reserved(std::int64_t now_s) {
  if (!inventory_) return 0;
  return std::min(*inventory_,
                  held(now_s) * static_cast<std::uint64_t>(settings_.reserve_per_session));
}

double Room::no_show_share() const {
  const std::uint64_t decided = totals_.passes_issued + unclaimed_expired_;
  if (decided < kNoShowSample) return 0;
  return std::min(kMaxNoShowShare,
                  static_cast<double>(unclaimed_expired_) / static_cast<double>(decided));
}

bool Room::quiet_at(std::int64_t now_s) const {
  return waiting_count() == 0 && (claim_queue_.empty() || settings_.claim_timeout_s <= 0) &&
         schedule_.due(settings_.events, now_s).empty();
}

// The policy says how many (owed turns for unclaimed passes included, within its caps); the
// room's queueing says who.
void Room::admit_by_policy(std::int64_t now_ms, Admissions& step) {
  const std::int64_t now_s = now_ms / 1000;
  Facts facts(*this, now_s);
  std::uint64_t n = admitter_->admits_at_step(
      {now_ms, recycle_debt_, bucket_, static_cast<std::uint64_t>(settings_.max_party_size)},
      facts);
  if (n == 0 || waiting_count() == 0) return;
  // The inventory's cap comes after the policy's step: its bucket still fills and drains.
  if (const std::optional<std::uint64_t> left = inventory_places_left(now_s)) {
    n = std::min(n, *left);
    if (n == 0) return;
  }
  const std::uint64_t k = admit_next(n, now_s, step);
  const std::uint64_t from_debt = std::min(recycle_debt_, k);
  recycle_debt_ -= from_debt;
  step.recycled = from_debt;
  admitter_->took(k - from_debt, bucket_);
}

// The checks follow tick()'s own order, so the reason named is the one that stops the step.
LineStatus Room::line_status(std::int64_t now_s) {
  if (settings_.state == RoomState::paused) return {LineReason::paused};
  if (settings_.state == RoomState::queue_all) return {LineReason::queue_all};
  if (schedule_.prequeue_open()) return {LineReason::prequeue};
  if (waiting_count() == 0) return {LineReason::nobody_waiting};
  if (sold_out()) return {LineReason::sold_out};
  // Every winner's turn taken, and nobody from before the drawing waiting: not even an
  // operator's advance lets anyone in until a turn runs out unclaimed.
  if (const DrawInfo* d = running_drawing();
      d && *drawing_turns_left() == 0 && waiting_between(serving_ + 1, d->shuffled_first - 1) == 0)
    return {LineReason::drawing_full};
  Facts facts(*this, now_s);
  // Manual mode before the window: start and end never hold back an operator's advance.
  if (admission_.mode == AdmissionMode::manual && queueing_ != Queueing::passthrough)
    return {admitter_->holds_line(now_s, facts)};
  if (admission_.start_s && now_s < *admission_.start_s) return {LineReason::not_started};
  if (admission_.end_s && now_s >= *admission_.end_s) return {LineReason::closed};
  if (auto held = admitter_->holds_line(now_s, facts)) return {held};
  if (inventory_places_left(now_s) == std::uint64_t{0}) return {LineReason::inventory_reserved};
  return {};
}

void Room::observe(std::int64_t now_ms) {
  expire_sessions(now_ms / 1000);
  record_pace(now_ms);
}

bool Room::too_big(std::uint64_t position, std::uint64_t seats_left, std::int64_t now_s) const {
  const TicketSlot& slot = tickets_[position - 1];
  return slot.party > seats_left && slot.phase == TicketPhase::waiting && !idle(slot, now_s);
}

std::uint64_t Room::admit_next(std::uint64_t n, std::int64_t now_s, Admissions& step) {
  std::uint64_t done = 0;
  if (queueing_ == Queueing::random) {
    if (!pool_built_) build_pool();
    while (done < n) {
      std::uint64_t p;
      if (drawn_party_ && tickets_[*drawn_party_ - 1].phase == TicketPhase::waiting) {
        p = *drawn_party_;  // out of the pool already
      } else {
        if (pool_.empty()) break;
        const std::size_t i = std::uniform_int_distribution<std::size_t>(0, pool_.size() - 1)(rng_);
        p = pool_[i];
        pool_[i] = pool_.back();
        pool_.pop_back();
        if (tickets_[p - 1].phase != TicketPhase::waiting) continue;
      }
      drawn_party_.reset();
      if (too_big(p, n - done, now_s)) {
        drawn_party_ = p;
        return done;
      }
      if (admit_unless_gone(p, now_s, /*out_of_order=*/true, step)) done += seats(p);
    }
    return done;
  }
  if (!has_lane_waiting()) {
    while (done < n) {
      const Turn turn = admit_next_in_line(now_s, n - done, step);
      if (turn.seats == 0) break;
      done += turn.seats;
    }
    return done;
  }
  // Each admission goes to a lane by the shares; a lane found empty sits out the rest.
  LaneFlags busy = lanes_busy();
  while (done < n) {
    std::optional<std::uint8_t> lane;
    for (std::uint8_t i = static_cast<std::uint8_t>(settings_.lanes.size() + 1); i <= kMaxLanes;
         ++i)
      if (busy[i]) lane = i;  // a lane that lost its setting drains first
    bool any = false;
    for (bool b : busy) any = any || b;
    if (!any) return done;
    if (!lane) lane = lane_picker_.pick(settings_.lanes, busy);
    const Turn turn = *lane == kDefaultLane ? admit_next_in_line(now_s, n - done, step)
                                            : admit_next_in_lane(*lane, now_s, n - done, step);
    // A party that does not fit ends the step: the seats freed later are its, not other lanes'.
    if (turn.blocked) return done;
    done += turn.seats;
    busy[*lane] = turn.seats > 0 && waiting_in_lane(*lane) > 0;
  }
  return done;
}

Room::Turn Room::admit_next_in_line(std::int64_t now_s, std::uint64_t seats_left,
                                    Admissions& step) {
  while (serving_ < tickets_.size()) {
    const std::uint64_t p = schedule_.position_at(serving_ + 1);
    const TicketSlot& slot = tickets_[p - 1];
    if (slot.lane == kDefaultLane && too_big(p, seats_left, now_s)) return {0, true};
    if (waitlisted(p, now_s)) return {0, true};
    ++serving_;
    step.changed = true;
    if (slot.phase != TicketPhase::waiting || slot.lane != kDefaultLane) continue;
    if (admit_unless_gone(p, now_s, /*out_of_order=*/false, step)) return {slot.party, false};
  }
  return {};
}

bool Room::admit_unless_gone(std::uint64_t p, std::int64_t now_s, bool out_of_order,
                             Admissions& step) {
  step.changed = true;
  if (idle(tickets_[p - 1], now_s)) {
    mark_left(p);
    step.left.push_back(p);
    return false;
  }
  admit_position(p, now_s);
  if (out_of_order) step.drawn.push_back(p);
  step.admitted.push_back(p);
  return true;
}

// Logged as a draw (admitted out of line order): replay admits the same tickets.
Room::Turn Room::admit_next_in_lane(std::uint8_t lane, std::int64_t now_s, std::uint64_t seats_left,
                                    Admissions& step) {
  if (!lane_lines_built_) build_lane_lines();
  LaneLine& line = lane_lines_[lane - 1];
  for (; line.next < line.positions.size(); ++line.next) {
    const std::uint64_t p = line.positions[line.next];
    if (tickets_[p - 1].phase != TicketPhase::waiting) continue;
    if (too_big(p, seats_left, now_s)) return {0, true};
    if (admit_unless_gone(p, now_s, /*out_of_order=*/true, step)) {
      ++line.next;
      return {seats(p), false};
    }
  }
  return {};
}

void Room::build_lane_lines() {
  lane_lines_ = {};
  if (lane_tickets_ > 0)
    for (std::uint64_t r = 1; r <= tickets_.size(); ++r) {
      const std::uint64_t p = schedule_.position_at(r);
      if (const std::uint8_t lane = tickets_[p - 1].lane; lane != kDefaultLane)
        lane_lines_[lane - 1].positions.push_back(p);
    }
  lane_lines_built_ = true;
}

std::size_t Room::lane_index_of(std::uint64_t position) {
  if (!lane_lines_built_) build_lane_lines();
  const std::vector<std::uint64_t>& line = lane_lines_[tickets_[position - 1].lane - 1].positions;
  const std::uint64_t rank = schedule_.rank_of(position);
  auto it = std::partition_point(line.begin(), line.end(),
                                 [&](std::uint64_t p) { return schedule_.rank_of(p) < rank; });
  return static_cast<std::size_t>(it - line.begin());
}

void Room::skip_stopped_in_lane(std::uint8_t lane) {
  if (!lane_lines_built_) build_lane_lines();
  LaneLine& line = lane_lines_[lane - 1];
  while (line.next < line.positions.size() &&
         tickets_[line.positions[line.next] - 1].phase != TicketPhase::waiting)
    ++line.next;
}

void Room::sweep_idle_lanes(std::int64_t now_s, std::uint64_t budget, Admissions& step) {
  if (!lane_lines_built_) build_lane_lines();
  for (std::uint8_t lane = 1; lane <= kMaxLanes; ++lane) {
    if (lane_waiting_[lane] == 0) continue;
    LaneLine& line = lane_lines_[lane - 1];
    if (line.swept < line.next || line.swept >= line.positions.size()) line.swept = line.next;
    for (; budget > 0 && line.swept < line.positions.size(); --budget, ++line.swept) {
      const std::uint64_t p = line.positions[line.swept];
      if (idle(tickets_[p - 1], now_s)) {
        mark_left(p);
        step.left.push_back(p);
        step.changed = true;
      }
    }
  }
}

void Room::recount_lanes() {
  lane_waiting_ = {};
  lane_tickets_ = 0;
  for (const TicketSlot& slot : tickets_) {
    if (slot.lane == kDefaultLane || slot.lane > kMaxLanes) continue;
    ++lane_tickets_;
    if (slot.phase == TicketPhase::waiting) ++lane_waiting_[slot.lane];
  }
  lane_lines_built_ = false;
  tally_built_ = false;
}

void Room::sweep_idle(std::int64_t now_s, Admissions& step) {
  if (settings_.ticket_idle_timeout_s <= 0 || waiting_count() == 0) return;
  // Lane tickets the serving counter passed are not behind it: their lanes are swept apart.
  if (has_lane_waiting()) sweep_idle_lanes(now_s, kSweepPerStep / 4, step);
  if (sweep_next_ <= serving_ || sweep_next_ > tickets_.size()) sweep_next_ = serving_ + 1;
  // By rank, as the line runs: after a shuffle, the places behind the serving counter are not
  // the positions above it.
  for (std::uint64_t n = 0; n < kSweepPerStep && sweep_next_ <= tickets_.size();
       ++n, ++sweep_next_) {
    const std::uint64_t p = schedule_.position_at(sweep_next_);
    if (idle(tickets_[p - 1], now_s)) {
      mark_left(p);
      step.left.push_back(p);
      step.changed = true;
    }
  }
}

void Room::admit_position(std::uint64_t position, std::int64_t at_s) {
  TicketSlot& slot = tickets_[position - 1];
  if (!notices_.empty()) notices_.mark_due(position, NoticeKind::turn);
  slot.phase = TicketPhase::admitted;
  slot.admitted_at_s = to_u32_seconds(std::max<std::int64_t>(at_s, slot.entry_time_s));
  waits_.add(slot.admitted_at_s, static_cast<std::int64_t>(slot.admitted_at_s) - slot.entry_time_s);
  admitted_order_.push_back(position);
  claim_queue_.push_back(position);
  ++unclaimed_count_;
  held_extra_seats_ += extra_seats(position);
  note_stopped_waiting(position);
  count_drawing_turn(position, +1);
}

std::optional<std::uint64_t> Room::drawing_turns_left() {
  const DrawInfo* d = running_drawing();
  if (!d) return std::nullopt;
  if (!drawing_turns_built_) {
    drawing_turns_used_ = 0;
    for (std::uint64_t p = d->shuffled_first; p <= d->last_position && p <= tickets_.size(); ++p)
      if (takes_drawing_turn(p) && tickets_[p - 1].phase == TicketPhase::admitted)
        ++drawing_turns_used_;
    drawing_turns_built_ = true;
  }
  return *d->winners > drawing_turns_used_ ? *d->winners - drawing_turns_used_ : 0;
}

bool Room::waitlisted(std::uint64_t position, std::int64_t now_s) {
  const DrawInfo* d = running_drawing();
  if (!d || !d->drawn(position)) return false;
  const TicketSlot& slot = tickets_[position - 1];
  return slot.phase == TicketPhase::waiting && !idle(slot, now_s) && *drawing_turns_left() == 0;
}

void Room::count_drawing_turn(std::uint64_t position, int change) {
  if (!drawing_turns_built_) return;
  const DrawInfo* d = running_drawing();
  if (d && d->drawn(position) && takes_drawing_turn(position))
    drawing_turns_used_ += static_cast<std::uint64_t>(change);
}

void Room::raise_floor(std::uint64_t queue_counter, std::uint64_t serving, std::int64_t now_s) {
  queue_counter = std::min(queue_counter, kMaxPosition);
  if (queue_counter > tickets_.size()) {
    const std::uint64_t burned = queue_counter - tickets_.size();
    const TicketSlot slot{
        to_u32_seconds(now_s), to_u32_seconds(now_s), 0, TicketPhase::left, 0, kDefaultLane, 1};
    tickets_.resize(queue_counter, slot);
    tally_built_ = false;
    left_count_ += burned;
    totals_.tickets_issued_total += burned;
  }
  if (serving > serving_) move_serving(serving, now_s);
}

void Room::move_serving(std::uint64_t to, std::int64_t at_s) {
  const std::uint64_t end = std::min<std::uint64_t>(to, tickets_.size());
  for (std::uint64_t r = serving_ + 1; r <= end; ++r) {
    const std::uint64_t p = schedule_.position_at(r);
    const TicketSlot& slot = tickets_[p - 1];
    if (slot.phase == TicketPhase::waiting && slot.lane == kDefaultLane) admit_position(p, at_s);
  }
  serving_ = std::max(serving_, to);
}

void Room::mark_left(std::uint64_t position) {
  TicketSlot& slot = tickets_[position - 1];
  if (slot.phase != TicketPhase::waiting) return;
  slot.phase = TicketPhase::left;
  ++left_count_;
  notices_.erase(position);
  note_stopped_waiting(position);
}

void Room::mark_unclaimed(std::uint64_t position) {
  TicketSlot& slot = tickets_[position - 1];
  if (slot.phase != TicketPhase::admitted || sessions_.contains(position)) return;
  slot.phase = TicketPhase::unclaimed;
  --unclaimed_count_;
  notices_.erase(position);
  held_extra_seats_ -= extra_seats(position);
  ++unclaimed_expired_;
  count_drawing_turn(position, -1);  // a winner who did not claim: the next on the waitlist's turn
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
      if (settings_.recycle_unclaimed) recycle_debt_ += slot.party;
    }
    claim_queue_.pop_front();
  }
}

Result<Admissions> Room::advance_to(std::uint64_t serving, std::int64_t now_s) {
  if (serving > kMaxPosition) return fail(ErrorCode::bad_request, "serving counter out of range");
  if (sold_out()) return fail(ErrorCode::conflict, kSoldOutAdvance);
  if (queueing_ == Queueing::random)
    return fail(ErrorCode::conflict,
                "in random queueing there is no line order to advance to; use \"by\"");
  if (running_drawing())
    return fail(ErrorCode::conflict,
                "a drawing lets in its winners' turns only: advance by a count (\"by\")");
  if (serving < serving_)
    return fail(ErrorCode::conflict,
                "the serving counter never moves back (now " + std::to_string(serving_) + ")");
  Admissions step;
  step.at_s = now_s;
  step.serving_from = serving_;
  const std::size_t before = admitted_order_.size();
  const std::uint64_t end = std::min<std::uint64_t>(serving, tickets_.size());
  for (std::uint64_t r = serving_ + 1; r <= end; ++r) {
    const std::uint64_t p = schedule_.position_at(r);
    if (tickets_[p - 1].lane == kDefaultLane && idle(tickets_[p - 1], now_s)) {
      mark_left(p);
      step.left.push_back(p);
    }
  }
  move_serving(serving, now_s);
  step.admitted.assign(admitted_order_.begin() + static_cast<std::ptrdiff_t>(before),
                       admitted_order_.end());
  step.serving_to = serving_;
  step.changed = true;
  return step;
}

Result<Admissions> Room::advance_by(std::uint64_t by, std::int64_t now_s) {
  if (sold_out()) return fail(ErrorCode::conflict, kSoldOutAdvance);
  // With lanes or parties `by` counts seats as a policy step does; else it moves the counter.
  if (queueing_ == Queueing::random || !settings_.lanes.empty() || has_lane_waiting() ||
      settings_.max_party_size > 1 || running_drawing()) {
    Admissions step;
    step.at_s = now_s;
    step.serving_from = serving_;
    admit_next(by, now_s, step);
    step.serving_to = serving_;
    step.changed = true;
    return step;
  }
  if (by > kMaxPosition - serving_)
    return fail(ErrorCode::bad_request, "serving counter out of range");
  return advance_to(serving_ + by, now_s);
}

void Room::apply(const Admissions& step) {
  for (std::uint64_t p : step.unclaimed)
    if (has_ticket(p)) mark_unclaimed(p);
  for (std::uint64_t p : step.left)
    if (has_ticket(p)) mark_left(p);
  if (step.serving_to > serving_) move_serving(step.serving_to, step.at_s);
  for (std::uint64_t p : step.drawn)
    if (has_ticket(p) && tickets_[p - 1].phase == TicketPhase::waiting)
      admit_position(p, step.at_s);
}

void Room::build_pool() {
  pool_.clear();
  for (std::uint64_t r = serving_ + 1; r <= tickets_.size(); ++r) {
    const std::uint64_t p = schedule_.position_at(r);
    if (tickets_[p - 1].phase == TicketPhase::waiting && !schedule_.in_prequeue(p))
      pool_.push_back(p);
  }
  pool_built_ = true;
}

void Room::record_pace(std::int64_t now_ms) {
  // A paused stretch, one with nobody waiting, or one before the policy's start says nothing
  // about the pace of a line.
  const bool telling = settings_.state == RoomState::open && waiting_count() > 0 &&
                       policy_window_open(now_ms / 1000);
  pace_.record(now_ms, {admitted_order_.size(), left_count_, waiting_count()}, telling);
}

template <typename Counted>
std::uint64_t Room::tallied_between(std::uint64_t first, std::uint64_t last, const LineTally& tally,
                                    Counted counted) const {
  constexpr std::uint64_t kBlock = LineTally::kBlock;
  std::uint64_t n = 0;
  auto scan = [&](std::uint64_t from, std::uint64_t to) {  // ranks from..to
    for (std::uint64_t r = from; r <= to; ++r)
      n += counted(tickets_[schedule_.position_at(r) - 1]) ? 1 : 0;
  };
  // Whole blocks from the tally, the ranks at either end from the slots.
  const std::uint64_t first_block = (first - 1 + kBlock - 1) / kBlock;
  const std::uint64_t end_block = last / kBlock;
  if (first_block >= end_block) {
    scan(first, last);
  } else {
    scan(first, first_block * kBlock);
    n += tally.in_blocks(first_block, end_block);
    scan(end_block * kBlock + 1, last);
  }
  return n;
}

std::uint64_t Room::waiting_between(std::uint64_t first, std::uint64_t last) {
  last = std::min<std::uint64_t>(last, tickets_.size());
  if (first == 0 || first > last) return 0;
  if (!tally_built_) build_tally();
  const std::uint64_t stopped = tallied_between(first, last, tally_, [](const TicketSlot& slot) {
    return slot.phase != TicketPhase::waiting || slot.lane != kDefaultLane;
  });
  return last - first + 1 - stopped;
}

std::uint64_t Room::lane_tickets_between(std::uint64_t first, std::uint64_t last) {
  last = std::min<std::uint64_t>(last, tickets_.size());
  if (first == 0 || first > last) return 0;
  if (!tally_built_) build_tally();
  return tallied_between(first, last, lane_tally_,
                         [](const TicketSlot& slot) { return slot.lane != kDefaultLane; });
}

void Room::build_tally() {
  tally_.clear();
  lane_tally_.clear();
  for (std::uint64_t p = 1; p <= tickets_.size(); ++p) {
    const TicketSlot& slot = tickets_[p - 1];
    if (slot.lane != kDefaultLane) lane_tally_.add(schedule_.rank_of(p));
    if (slot.phase != TicketPhase::waiting || slot.lane != kDefaultLane)
      tally_.add(schedule_.rank_of(p));
  }
  tally_built_ = true;
}

void Room::reset(std::uint32_t new_epoch) {
  epoch_ = new_epoch;
  serving_ = 0;
  notices_.clear();
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
  drawn_party_.reset();
  bucket_.units = 0;
  pace_.clear();
  tally_.clear();
  lane_tally_.clear();
  tally_built_ = false;
  lane_waiting_ = {};
  lane_tickets_ = 0;
  lane_lines_ = {};
  lane_lines_built_ = false;
  invitations_.clear_places();
  held_extra_seats_ = 0;
  waiting_extra_seats_ = 0;
  lane_picker_.clear();
  schedule_ = EventSchedule{};
  drawing_turns_built_ = false;
  refresh_effective();
  sessions_ = {};
  active_by_expiry_.clear();
  // Stats start again with the epoch; only the lifetime totals (Prometheus counters) stay.
  const RoomCounters lifetime = totals_;
  totals_ = {};
  totals_.tickets_issued_total = lifetime.tickets_issued_total;
  totals_.passes_issued_total = lifetime.passes_issued_total;
}

// Compares where the room is with where its schedule says it should be, and moves it there one
// logged moment at a time.
void Room::step_events(std::int64_t now_s, Admissions& step) {
  using Kind = EventTransition::Kind;
  for (EventTransition t : schedule_.due(settings_.events, now_s)) {
    t.at_s = now_s;
    for (const ScheduledEvent& e : settings_.events)
      if (t.kind != Kind::ended && e.start_s == t.event_start_s && e.queueing == Queueing::draw &&
          e.winners)
        t.winners = static_cast<std::uint64_t>(*e.winners);
    if (t.kind == Kind::prequeue_opened) {
      t.seed = new_seed();
      // Only visitors who join after the commitment is published are shuffled (an event added
      // late opens now, not at its prequeue_start).
      t.first = tickets_.size() + 1;
    } else if (t.kind == Kind::started) {
      t.last = first_entered_at_or_after(t.event_start_s) - 1;
    }
    apply(t);
    step.transitions.push_back(t);
  }
}

void Room::apply(const EventTransition& t) {
  pool_ = {};  // the random pool leaves the pre-queue out; rebuild it with the new phase
  pool_built_ = false;
  tally_built_ = false;  // a draw gives the pre-queue its ranks, and the lanes their order
  lane_lines_built_ = false;
  drawing_turns_built_ = false;  // a drawing starts or ends
  schedule_.apply(t, serving_);
  refresh_effective();
}

std::uint64_t Room::first_entered_at_or_after(std::int64_t s) const {
  auto it = std::partition_point(tickets_.begin(), tickets_.end(), [s](const TicketSlot& slot) {
    return static_cast<std::int64_t>(slot.entry_time_s) < s;
  });
  return static_cast<std::uint64_t>(it - tickets_.begin()) + 1;
}

std::optional<EventStatus> Room::event_status(std::int64_t now_s) const {
  return schedule_.status(settings_.events, now_s);
}

std::vector<DrawInfo> Room::draws() const { return schedule_.draws(); }

}  // namespace waitroom::core
