#pragma once
// The waits of a room's recent admissions, by when they happened: a ring of 10-second slots
// holding a WaitHistogram each, the last 11 minutes of the room's clock. Enough for the admin
// stats' last 10 minutes, the history's samples (the last minute) and its minutes (each whole
// minute, read when it has ended). Adding a wait is O(1) (plus a small sorted insert in a sparse
// histogram), so admitting a crowd at once costs what it did.
//
// Derived data, like the room's other caches: not logged. Replaying the log at start admits again
// what the log holds, so the waits of admissions since the room's last snapshot come back; older
// ones of the window are gone after a restart.
#include <array>
#include <cstdint>

#include "core/wait_histogram.hpp"

namespace waitroom::core {

class WaitLog {
 public:
  static constexpr std::int64_t kSlotS = 10;
  static constexpr std::size_t kSlots = 66;  // 11 minutes

  // A visitor admitted at `at_s` who waited `wait_s`. Waits older than the ring (by the newest
  // admission seen) are dropped.
  void add(std::int64_t at_s, std::int64_t wait_s);
  // The waits of admissions at [from_s, to_s), to the slot (both rounded down to 10 s), as far
  // as the ring reaches back.
  WaitHistogram between(std::int64_t from_s, std::int64_t to_s) const;
  // The last `window_s` up to `now_s`: the slots that start after now_s - window_s, now's slot
  // included.
  WaitHistogram last(std::int64_t now_s, std::int64_t window_s) const;
  void clear();

 private:
  static std::int64_t slot_of(std::int64_t at_s);
  static std::size_t index(std::int64_t slot);

  std::array<WaitHistogram, kSlots> slots_;  // slot n at slots_[n % kSlots]
  std::int64_t newest_ = 0;                  // the newest slot number written
  bool any_ = false;
};

}  // namespace waitroom::core
