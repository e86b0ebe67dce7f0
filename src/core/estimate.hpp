#pragma once
// A waiting visitor's estimate: the line's pace observed over the last minute, and the wait it
// implies for someone with `ahead` visitors in front (docs/admission.md, "Estimates").
#include <cstdint>
#include <deque>
#include <optional>

namespace waitroom::core {

struct Eta {
  std::int64_t p50_s = 0;  // half of the visitors in this place wait less
  std::int64_t p90_s = 0;  // nine in ten wait less, as far as the pace's spread tells
  // The policy's configured pace stood in: the line's own pace was not observed long enough.
  bool configured_pace = false;
};

// About one sample a second over the last minute of the line's serving counter and admissions.
class LinePace {
 public:
  // Takes a sample unless one was taken less than a second ago. `telling` false (room paused,
  // nobody waiting, a pre-queue): such a stretch says nothing about the pace of a line, so the
  // samples before it are dropped.
  void record(std::int64_t now_ms, std::uint64_t serving, std::uint64_t admitted, bool telling);
  void clear() { samples_.clear(); }

  // The wait for a visitor with `ahead` in front. In line order (`random` false) the pace is
  // positions passed per second (gone visitors are passed too, so the distance in positions is
  // what matters); in random order, admissions per second, each of which picks any one waiting
  // ticket. Until the pace has been observed for kTrustedSpanMs, `assumed_per_s` (the policy's
  // configured pace; 0: none) stands in for it. nullopt: no pace at all.
  std::optional<Eta> estimate(std::uint64_t ahead, bool random, double assumed_per_s) const;

 private:
  struct Sample {
    std::int64_t at_ms = 0;
    std::uint64_t serving = 0;
    std::uint64_t admitted = 0;
  };
  struct Pace {
    double per_s = 0;
    // How unevenly the line moves: the variance of the positions passed in a second, per second
    // (0 for a line that moves like clockwork; per_s for one that moves at random moments).
    double spread_per_s = 0;
    double span_s = 0;  // how long it was observed
  };

  Pace observed(bool random) const;

  std::deque<Sample> samples_;
};

}  // namespace waitroom::core
