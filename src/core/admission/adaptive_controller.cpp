#include "core/admission/adaptive_controller.hpp"

#include <algorithm>
#include <cmath>

namespace waitroom::core {

std::string_view to_string(AdjustReason reason) {
  switch (reason) {
    case AdjustReason::latency:
      return "latency";
    case AdjustReason::errors:
      return "errors";
    case AdjustReason::healthy:
      return "healthy";
    case AdjustReason::max_active:
      return "max_active";
  }
  return "healthy";
}

std::optional<AdmissionAdjustment> decide(const AdmissionPolicy& settings,
                                          const HealthReading& reading, std::uint64_t held,
                                          std::uint64_t min_limit, ControllerState& state,
                                          std::int64_t now_s) {
  if (now_s - state.decided_s < kControllerPeriodS) return std::nullopt;
  state.decided_s = now_s;
  const auto ceiling = settings.max_active ? static_cast<std::uint64_t>(*settings.max_active)
                                           : std::uint64_t{kMaxActiveCap};
  min_limit = std::max<std::uint64_t>(1, std::min(min_limit, ceiling));
  AdmissionAdjustment out{state.limit, 0, AdjustReason::healthy, reading, held};
  auto change = [&](std::uint64_t limit,
                    AdjustReason reason) -> std::optional<AdmissionAdjustment> {
    limit = std::clamp(limit, min_limit, ceiling);
    if (state.limit == limit) return std::nullopt;
    out.new_limit = limit;
    out.reason = reason;
    state.limit = limit;
    return out;
  };
  if (state.limit && *state.limit > ceiling) return change(ceiling, AdjustReason::max_active);
  if (!reading.known()) return std::nullopt;

  const auto target = static_cast<double>(settings.target_p95_ms.value_or(1));
  const bool slow = reading.p95_ms && *reading.p95_ms > target * kBreachAbove;
  const bool failing = reading.error_ratio && *reading.error_ratio > settings.error_ratio_limit();
  const bool settled = now_s - state.decreased_s >= kControllerSettleS;
  if (slow || failing) {
    // A decrease shows only as sessions end: until the places held are down to the limit, the
    // site still carries more than the last decision let in, and cutting again would cut for
    // a load that is already leaving (admissions are stopped meanwhile either way).
    if (!settled || (state.limit && held > *state.limit)) return std::nullopt;
    const std::uint64_t from = state.limit ? std::min(*state.limit, held) : held;
    const auto lower =
        static_cast<std::uint64_t>(std::floor(static_cast<double>(from) * kDecreaseFactor));
    state.decreased_s = now_s;
    return change(lower, failing ? AdjustReason::errors : AdjustReason::latency);
  }
  // Room to grow: below the band, errors well under the limit, settled, and the limit is what
  // holds the line (a limit nobody reaches says nothing about the site; raising it would only
  // let a burst through later).
  const bool fast = !reading.p95_ms || *reading.p95_ms < target * kHealthyBelow;
  const bool clean =
      !reading.error_ratio || *reading.error_ratio <= settings.error_ratio_limit() / 2;
  if (!state.limit || !fast || !clean || !settled) return std::nullopt;
  const auto limit = static_cast<double>(*state.limit);
  if (static_cast<double>(held) < limit * 0.9) return std::nullopt;
  // Less as the latency nears the band: a full step with all the band's room below it.
  const double room =
      reading.p95_ms
          ? std::clamp((target * kHealthyBelow - *reading.p95_ms) / (target * 0.3), 0.0, 1.0)
          : 1.0;
  const auto step = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::llround(limit * kIncreaseShare * room)));
  return change(*state.limit + step, AdjustReason::healthy);
}

}  // namespace waitroom::core
