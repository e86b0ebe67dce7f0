#pragma once
// The behaviour behind an admission mode: whom a room lets in, and when.
//
// Names. "Admission" already names three other things here: core::AdmissionPolicy is the
// operator's settings (room_settings.hpp, parsed by config/room_settings_codec.cpp),
// AdmissionMode picks one of them, and core::Admissions is the logged outcome of one step
// (room.hpp). The behaviour is called an Admitter so that a reader never has to guess which of
// the four is meant; each mode's Admitter lives in its own *_policy.cpp file in this folder.
//
// An Admitter is immutable and knows only its settings; the room hands it the facts it needs
// (RoomFacts) and the rate bucket, so one can be rebuilt on any settings change and shared.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>

#include "core/line_status.hpp"
#include "core/room_settings.hpp"

namespace waitroom::core {

// "Everyone who waits": a step that no pace limits.
inline constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();
// The rate bucket counts 1/60000 of an admission, so filling it at rate_per_minute for one ms
// adds exactly rate_per_minute units: integers, no drift.
inline constexpr std::int64_t kAdmissionUnits = 60'000;
// No-show compensation raises a pace at most this far (to twice the setting): a line whose turns
// mostly go unclaimed says more about the line than about the site.
inline constexpr double kMaxNoShowShare = 0.5;

// Admissions a paced policy may make now. The room keeps it, not the policy: a policy object is
// rebuilt on every settings change, and the time of the previous step must survive that.
struct RateBucket {
  std::int64_t units = 0;  // in kAdmissionUnits per admission
  std::int64_t at_ms = 0;  // the room's previous step (0: none yet); the room updates it
  // Adaptive mode's floor (min_per_minute): admissions it guarantees whatever the signals say.
  std::int64_t floor_units = 0;
};

// What a policy may ask of its room. Asked for, not handed over, because some facts cost work
// (the last minute's admissions are counted by walking back) or a change (held() first expires
// sessions that ran out), and most policies need none of them.
class RoomFacts {
 public:
  virtual std::uint64_t waiting() const = 0;
  // Places counted against a cap: active sessions plus eligible tickets whose pass is unclaimed.
  virtual std::uint64_t held() = 0;
  // Admissions counted back from the latest until one at or before `since_s`.
  virtual std::uint64_t admitted_after(std::int64_t since_s) const = 0;
  // Adaptive mode's limit on places held, as its controller last set it (none: not found yet).
  virtual std::optional<std::uint64_t> active_limit() const { return std::nullopt; }
  // The share of admitted visitors who never claimed their pass, as measured this epoch (0 until
  // enough are known; at most kMaxNoShowShare), for compensate_no_shows.
  virtual double no_show_share() const { return 0; }

 protected:
  ~RoomFacts() = default;
};

// One admission step, as the room runs it for its policy.
struct AdmissionStep {
  std::int64_t now_ms = 0;
  // Turns owed to unclaimed passes (recycle_unclaimed): let in beyond the pace, within the caps.
  std::uint64_t owed = 0;
  RateBucket& bucket;
  // The room's largest party (max_party_size): a paced policy saves up at least that many seats,
  // so that a party at the head of the line can go in at all.
  std::uint64_t max_party = 1;
};

// A paced bucket's `units` filled at `per_minute` from the room's previous step to this one,
// holding at most kBucketSeconds of it (and at least the largest party): a driver that stalls
// for longer does not make up the rest. Nothing before the first step.
inline constexpr std::int64_t kBucketSeconds = 2;
inline std::int64_t filled(std::int64_t units, std::int64_t per_minute, const AdmissionStep& step) {
  const std::int64_t at_ms = step.bucket.at_ms;
  if (at_ms <= 0 || step.now_ms <= at_ms) return units;
  const std::int64_t ceiling =
      std::max<std::int64_t>(kAdmissionUnits * static_cast<std::int64_t>(step.max_party),
                             per_minute * 1000 * kBucketSeconds);
  return std::min(ceiling, units + per_minute * (step.now_ms - at_ms));
}

// What a policy tells the estimate of a visitor's wait.
struct PaceHint {
  bool halted = false;       // the policy lets nobody in now (outside its window): no estimate
  double assumed_per_s = 0;  // the pace to assume until one is observed (0: none)
};

class Admitter {
 public:
  explicit Admitter(const AdmissionPolicy& settings)
      : start_s_(settings.start_s), end_s_(settings.end_s) {}
  virtual ~Admitter() = default;

  // The policy admits only in [start, end); outside it no step lets anyone in.
  bool window_open(std::int64_t now_s) const {
    return !(start_s_ && now_s < *start_s_) && !(end_s_ && now_s >= *end_s_);
  }

  // Whether a visitor arriving at `now_s` with a ticket for `seats` (a party) is let in at once
  // instead of taking a place in line. The room asks only while it is open and no pre-queue runs.
  virtual bool admits_on_arrival(std::int64_t now_s, std::uint64_t seats,
                                 RoomFacts& room) const = 0;
  // How many seats may be admitted at this step (kUnlimited: everyone waiting); a ticket takes
  // as many as its party. The room asks only while it is open and window_open(); a paced policy
  // fills step.bucket here.
  virtual std::uint64_t admits_at_step(const AdmissionStep& step, RoomFacts& room) const = 0;
  // After a step that admitted someone: `paced` of their seats were at the policy's pace (the
  // rest were owed turns), so a paced policy takes them out of the bucket.
  virtual void took(std::uint64_t paced, RateBucket& bucket) const = 0;
  virtual PaceHint pace(std::int64_t now_s) const = 0;
  // Why the policy itself lets nobody in now though visitors wait (manual mode, a cap reached),
  // for the operator; none when it admits, if only at its pace. Asked inside its window only.
  virtual std::optional<LineReason> holds_line(std::int64_t now_s, RoomFacts& room) const = 0;

 private:
  std::optional<std::int64_t> start_s_;
  std::optional<std::int64_t> end_s_;
};

// Places left under `cap` when `held` are taken (0 when full or over).
inline std::uint64_t places_left(std::int64_t cap, std::uint64_t held) {
  return static_cast<std::uint64_t>(cap) > held ? static_cast<std::uint64_t>(cap) - held : 0;
}

}  // namespace waitroom::core
