#include "core/wait_log.hpp"

#include <algorithm>

namespace waitroom::core {

std::size_t WaitLog::index(std::int64_t slot) {
  constexpr auto kSpan = static_cast<std::int64_t>(kSlots);
  return static_cast<std::size_t>(((slot % kSpan) + kSpan) % kSpan);
}

std::int64_t WaitLog::slot_of(std::int64_t at_s) {
  const std::int64_t q = at_s / kSlotS;
  return at_s % kSlotS < 0 ? q - 1 : q;
}

void WaitLog::add(std::int64_t at_s, std::int64_t wait_s) {
  const std::int64_t slot = slot_of(at_s);
  constexpr auto kSpan = static_cast<std::int64_t>(kSlots);
  if (!any_) {
    any_ = true;
    newest_ = slot;
  } else if (slot > newest_) {
    // Slots passed since the newest one are of times that had no admission: empty them.
    for (std::int64_t s = std::max(newest_ + 1, slot - kSpan + 1); s <= slot; ++s)
      slots_[index(s)].clear();
    newest_ = slot;
  } else if (slot <= newest_ - kSpan) {
    return;  // older than the ring
  }
  slots_[index(slot)].add(wait_s);
}

WaitHistogram WaitLog::between(std::int64_t from_s, std::int64_t to_s) const {
  WaitHistogram out;
  if (!any_) return out;
  constexpr auto kSpan = static_cast<std::int64_t>(kSlots);
  const std::int64_t first = std::max(slot_of(from_s), newest_ - kSpan + 1);
  const std::int64_t end = std::min(slot_of(to_s), newest_ + 1);
  for (std::int64_t s = first; s < end; ++s) out.merge(slots_[index(s)]);
  return out;
}

WaitHistogram WaitLog::last(std::int64_t now_s, std::int64_t window_s) const {
  return between(now_s - window_s + kSlotS, now_s + kSlotS);
}

void WaitLog::clear() {
  for (WaitHistogram& h : slots_) h.clear();
  any_ = false;
  newest_ = 0;
}

}  // namespace waitroom::core
