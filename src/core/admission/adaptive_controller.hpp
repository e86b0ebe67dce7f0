#pragma once
// Adaptive admission's controller (docs/admission.md, "adaptive"): each second it reads the
// site's health and moves a limit on the places the site holds (active sessions plus turns whose
// pass is not claimed yet), additively up while the site is healthy and the limit is what holds
// the line, multiplicatively down on a breach. A limit rather than a rate: a visitor let in loads
// the site for their whole session, so a rate's effect shows only a session later and a rate
// controller overshoots; the places held are the load itself. Pure: the room logs each decision.
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/admission/health.hpp"
#include "core/room_settings.hpp"

namespace waitroom::core {

// How often the controller decides, and how long after a decrease it waits before the next one
// (or an increase): as long as the proxy's window (core/health_window.hpp), so that the signals
// it decides by no longer include requests from before its last decision.
inline constexpr std::int64_t kControllerPeriodS = 1;
inline constexpr std::int64_t kControllerSettleS = 5;
// The band around the target that holds the limit still (hysteresis): a breach above it, room to
// grow below it.
inline constexpr double kBreachAbove = 1.10;
inline constexpr double kHealthyBelow = 0.90;
// A breach takes the limit to this share of the places held (multiplicative decrease).
inline constexpr double kDecreaseFactor = 0.85;
// While healthy the limit grows by up to this share of itself a second, less as the latency
// nears the band (additive increase, at least one place).
inline constexpr double kIncreaseShare = 0.03;

enum class AdjustReason : std::uint8_t {
  latency,    // p95 above the target's band: down
  errors,     // error ratio above max_error_ratio: down
  healthy,    // below the band while the limit holds the line: up
  max_active  // the operator's max_active is below the limit (a settings change): down to it
};
std::string_view to_string(AdjustReason reason);

struct AdmissionAdjustment {
  std::optional<std::uint64_t> old_limit;  // none: no limit had been found yet
  std::uint64_t new_limit = 0;
  AdjustReason reason = AdjustReason::healthy;
  HealthReading inputs;
  std::uint64_t held = 0;  // the places held when it decided
};

// The controller's memory. The limit is the room's state (logged, in snapshots); the times are
// not (after a restart it may decide at once: the limit it starts from is the one it had).
struct ControllerState {
  std::optional<std::uint64_t> limit;  // none: the site has not been seen to breach yet
  std::int64_t decided_s = 0;          // the last second it decided in
  std::int64_t decreased_s = 0;        // the last decrease (0: none)
};

// One decision at `now_s` for `settings` (adaptive), given the reading and the places held now;
// nullopt when the limit stays. At most one decision a second; unknown signals hold the limit.
// `min_limit`: the least it goes to (the largest party, so one can still go in).
std::optional<AdmissionAdjustment> decide(const AdmissionPolicy& settings,
                                          const HealthReading& reading, std::uint64_t held,
                                          std::uint64_t min_limit, ControllerState& state,
                                          std::int64_t now_s);

}  // namespace waitroom::core
