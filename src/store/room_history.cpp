#include "store/room_history.hpp"

#include <algorithm>
#include <set>

namespace waitroom::store {

namespace {
constexpr double kMsPerMinute = 60'000.0;
}  // namespace

namespace {
// Per minute, what a cumulative count grew by since `base` (its epoch's count, else 0).
double per_minute(std::uint64_t now, std::uint64_t then, std::int64_t ms) {
  const std::uint64_t delta = now >= then ? now - then : now;
  return static_cast<double>(delta) * kMsPerMinute / static_cast<double>(ms);
}
}  // namespace

HistorySample make_sample(const RoomStats& stats, std::int64_t at_ms, const HistorySample* base) {
  const RoomView& room = stats.view;
  HistorySample s;
  s.at_ms = at_ms;
  s.epoch = room.epoch;
  s.paused = room.paused || room.settings.state == core::RoomState::paused;
  s.queue_length = room.counters.queue_counter;
  s.waiting = room.counters.waiting;
  s.serving = room.counters.serving;
  s.admitted = room.counters.admitted;
  s.active_sessions = room.counters.active_sessions;
  s.eta = room.eta;
  s.tickets_expired = room.counters.tickets_expired;
  s.sessions_expired = room.counters.expired;
  s.tickets_left = room.counters.tickets_left;
  if (stats.site) {  // adaptive rooms only
    s.active_limit = stats.active_limit;
    s.held = stats.held;
    s.site_p95_ms = stats.site->p95_ms;
    s.site_error_ratio = stats.site->error_ratio;
  }
  const core::WaitHistogram waited = stats.waits.last(at_ms / 1000, kSampleWaitedWindowS);
  s.waited_p50_s = waited.percentile(kWaitedP50);
  s.waited_p95_s = waited.percentile(kWaitedP95);
  if (base && at_ms > base->at_ms) {
    // The counts restart at 0 with each epoch: after a reset, what happened since counts.
    const bool same_epoch = base->epoch == s.epoch;
    s.admissions_per_minute =
        per_minute(s.admitted, same_epoch ? base->admitted : 0, at_ms - base->at_ms);
    s.arrivals_per_minute =
        per_minute(s.queue_length, same_epoch ? base->queue_length : 0, at_ms - base->at_ms);
  }
  return s;
}

SampleRing::SampleRing(std::size_t capacity) : slots_(std::max<std::size_t>(capacity, 1)) {}

void SampleRing::push(const HistorySample& sample) {
  slots_[next_] = sample;
  next_ = (next_ + 1) % slots_.size();
  size_ = std::min(size_ + 1, slots_.size());
}

std::vector<HistorySample> SampleRing::snapshot() const {
  std::vector<HistorySample> out;
  out.reserve(size_);
  const std::size_t first = (next_ + slots_.size() - size_) % slots_.size();
  for (std::size_t i = 0; i < size_; ++i) out.push_back(slots_[(first + i) % slots_.size()]);
  return out;
}

const HistorySample* SampleRing::newest() const {
  if (size_ == 0) return nullptr;
  return &slots_[(next_ + slots_.size() - 1) % slots_.size()];
}

const HistorySample* SampleRing::rate_base(std::int64_t at_ms) const {
  if (size_ == 0) return nullptr;
  const std::size_t first = (next_ + slots_.size() - size_) % slots_.size();
  for (std::size_t i = size_; i-- > 0;) {
    const HistorySample& s = slots_[(first + i) % slots_.size()];
    if (at_ms - s.at_ms >= kRateWindowMs) return &s;
  }
  return &slots_[first];
}

RoomHistory::RoomHistory(std::int64_t interval_ms, std::size_t capacity)
    : interval_ms_(interval_ms), capacity_(std::max<std::size_t>(capacity, 1)) {}

std::vector<HistorySample> RoomHistory::record(const std::vector<RoomStats>& rooms,
                                               std::int64_t at_ms) {
  std::vector<HistorySample> out;
  out.reserve(rooms.size());
  std::lock_guard lock(mu_);
  std::set<std::string_view> listed;
  for (const RoomStats& room : rooms) listed.insert(room.view.name);
  for (auto it = rings_.begin(); it != rings_.end();)
    it = listed.contains(it->first) ? std::next(it) : rings_.erase(it);
  for (const RoomStats& room : rooms) {
    auto it = rings_.find(room.view.name);
    if (it == rings_.end()) it = rings_.emplace(room.view.name, SampleRing(capacity_)).first;
    const HistorySample sample = make_sample(room, at_ms, it->second.rate_base(at_ms));
    it->second.push(sample);
    out.push_back(sample);
  }
  return out;
}

std::vector<HistorySample> RoomHistory::samples(std::string_view room) const {
  std::lock_guard lock(mu_);
  auto it = rings_.find(room);
  if (it == rings_.end()) return {};
  return it->second.snapshot();
}

}  // namespace waitroom::store
