#pragma once
// A waiting visitor's estimate: the line's pace observed over the last minute, and the wait it
// implies for someone with `ahead` waiting visitors in front (docs/admission.md, "Estimates").
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace waitroom::core {

struct Eta {
  std::int64_t p50_s = 0;  // half of the visitors in this place wait less
  // Nine in ten wait less, as far as the pace's spread and the visitors who leave tell.
  std::int64_t p90_s = 0;
  // The policy's configured pace stood in: the line's own pace was not observed long enough.
  bool configured_pace = false;
};

// What a line is sampled for: its admissions, its visitors found gone and how many wait.
struct LineCounts {
  std::uint64_t admitted = 0;  // admissions so far (this epoch)
  std::uint64_t left = 0;      // waiting tickets found gone so far (this epoch)
  std::uint64_t waiting = 0;   // waiting now
};

// About one sample a second over the last minute of the line's admissions and departures.
class LinePace {
 public:
  // Takes a sample unless one was taken less than a second ago. `telling` false (room paused,
  // nobody waiting, a pre-queue): such a stretch says nothing about the pace of a line, so the
  // samples before it are dropped.
  void record(std::int64_t now_ms, const LineCounts& counts, bool telling);
  void clear() { samples_.clear(); }

  // The wait for a visitor with `ahead` waiting visitors in front (places of visitors known to
  // have left are not counted: they cost nothing). The pace is admissions per second. In line
  // order (`random` false) the ones ahead who leave before their turn shorten the wait, at the
  // rate visitors were seen to leave; in random order each admission picks any one of the
  // `ahead + 1` waiting tickets. Until the pace has been observed for kTrustedSpanMs,
  // `assumed_per_s` (the policy's configured pace; 0: none) stands in for it. nullopt: no pace
  // at all.
  std::optional<Eta> estimate(std::uint64_t ahead, bool random, double assumed_per_s) const;

 private:
  struct Sample {
    std::int64_t at_ms = 0;
    LineCounts counts;
  };
  struct Pace {
    double per_s = 0;  // admissions
    // How unevenly the line moves: the variance of the admissions in a second, per second (0
    // for a line that moves like clockwork; per_s for one that moves at random moments).
    double spread_per_s = 0;
    double spread_dof = 0;  // how well the spread is known: its degrees of freedom
    double span_s = 0;      // how long it was observed
    // Visitors found gone per waiting visitor and second, and how many were: the chance that
    // someone waiting now leaves in the next second, and how well it is known.
    double leave_per_s = 0;
    double departures = 0;
  };

  Pace observed() const;
  // The wait's median and 90th percentile in line order, with `n - 1` waiting ahead.
  static std::pair<double, double> in_line(double n, const Pace& pace);

  std::deque<Sample> samples_;
};

}  // namespace waitroom::core
