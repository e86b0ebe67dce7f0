#include "store/room_history.hpp"

#include <algorithm>
#include <set>

namespace waitroom::store {

namespace {
constexpr double kMsPerMinute = 60'000.0;
}  // namespace

HistorySample make_sample(const RoomView& room, std::int64_t at_ms, const HistorySample* base) {
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
  if (base && at_ms > base->at_ms) {
    // `admitted` restarts at 0 with each epoch: after a reset, what was admitted since counts.
    const std::uint64_t from = base->epoch == s.epoch ? base->admitted : 0;
    const std::uint64_t delta = s.admitted >= from ? s.admitted - from : s.admitted;
    s.admissions_per_minute =
        static_cast<double>(delta) * kMsPerMinute / static_cast<double>(at_ms - base->at_ms);
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

std::vector<HistorySample> RoomHistory::record(const std::vector<RoomView>& rooms,
                                               std::int64_t at_ms) {
  std::vector<HistorySample> out;
  out.reserve(rooms.size());
  std::lock_guard lock(mu_);
  std::set<std::string_view> listed;
  for (const RoomView& room : rooms) listed.insert(room.name);
  for (auto it = rings_.begin(); it != rings_.end();)
    it = listed.contains(it->first) ? std::next(it) : rings_.erase(it);
  for (const RoomView& room : rooms) {
    auto it = rings_.find(room.name);
    if (it == rings_.end()) it = rings_.emplace(room.name, SampleRing(capacity_)).first;
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
