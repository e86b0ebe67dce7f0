#include "store/minute_history.hpp"

#include <algorithm>

namespace waitroom::store {

namespace {

// Floor division, so that times before 1970 (none in practice) still land in their minute.
std::int64_t floor_to(std::int64_t at_ms, std::int64_t unit_ms) {
  const std::int64_t q = at_ms / unit_ms;
  return (at_ms % unit_ms < 0 ? q - 1 : q) * unit_ms;
}

// How far a counter grew; a counter that went back (a session revived) grew by nothing.
std::uint64_t growth(std::uint64_t from, std::uint64_t to) { return to > from ? to - from : 0; }

// What happened between two samples' counts. After a reset the new epoch's counters hold
// everything since the reset.
void add_counts_between(const CumulativeCounts& from, const CumulativeCounts& to,
                        MinuteAggregate& minute) {
  const CumulativeCounts base = from.epoch == to.epoch ? from : CumulativeCounts{};
  minute.arrivals += growth(base.tickets, to.tickets);
  minute.admissions += growth(base.admitted, to.admitted);
  const std::uint64_t tickets = growth(base.tickets_expired, to.tickets_expired);
  const std::uint64_t sessions = growth(base.sessions_expired, to.sessions_expired);
  minute.expiries += tickets + sessions;
  minute.sessions_expired += sessions;
  // Apart only when both ends tell them apart (not from a minute kept by an older version).
  if (base.tickets_left && to.tickets_left) {
    const std::uint64_t left = std::min(growth(*base.tickets_left, *to.tickets_left), tickets);
    minute.left_line += left;
    minute.unclaimed += tickets - left;
  }
}

void take_end_state(const HistorySample& sample, MinuteAggregate& minute) {
  minute.waiting = sample.waiting;
  minute.active_sessions = sample.active_sessions;
  minute.eta.reset();
  if (sample.eta) minute.eta = EtaRange{sample.eta->p50_s, sample.eta->p90_s};
  minute.paused = sample.paused;
  minute.end = counts_of(sample);
}

}  // namespace

std::int64_t minute_of(std::int64_t at_ms) { return floor_to(at_ms, kMsPerMinute); }
std::int64_t day_of(std::int64_t at_ms) { return floor_to(at_ms, kMsPerDay); }

CumulativeCounts counts_of(const HistorySample& sample) {
  return CumulativeCounts{.epoch = sample.epoch,
                          .tickets = sample.queue_length,
                          .admitted = sample.admitted,
                          .tickets_expired = sample.tickets_expired,
                          .sessions_expired = sample.sessions_expired,
                          .tickets_left = sample.tickets_left};
}

void MinuteAggregator::seed(const MinuteAggregate& previous) {
  if (!previous_) seed_ = previous;
}

std::optional<MinuteAggregate> MinuteAggregator::add(const HistorySample& sample,
                                                     const core::WaitLog* waits) {
  const std::int64_t minute = minute_of(sample.at_ms);
  if (seed_) {
    // A seed from this minute or later (a clock set back, another node's newer minute) would
    // count what this minute already holds: the first sample starts afresh instead.
    if (seed_->minute_ms < minute) previous_ = seed_->end;
    seed_.reset();
  }
  std::optional<MinuteAggregate> closed;
  // A sample from an earlier minute (the clock went back) counts in the open minute.
  if (open_ && minute > open_->minute_ms) {
    closed = std::exchange(open_, std::nullopt);
    // The minute has ended, so the room's log holds all its admissions.
    if (waits) {
      const std::int64_t from_s = closed->minute_ms / 1000;
      closed->waits = waits->between(from_s, from_s + kMsPerMinute / 1000);
    }
  }
  if (!open_) {
    open_.emplace();
    open_->minute_ms = minute;
  }
  const CumulativeCounts now = counts_of(sample);
  if (previous_) add_counts_between(*previous_, now, *open_);
  take_end_state(sample, *open_);
  previous_ = now;
  return closed;
}

}  // namespace waitroom::store
