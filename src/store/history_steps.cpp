#include "store/history_steps.hpp"

namespace waitroom::store {

std::vector<HistoryPoint> sum_by_step(const std::vector<MinuteAggregate>& minutes,
                                      std::int64_t step_ms) {
  std::vector<HistoryPoint> out;
  if (step_ms <= 0) return out;
  for (const MinuteAggregate& m : minutes) {
    std::int64_t at = m.minute_ms - m.minute_ms % step_ms;
    if (m.minute_ms % step_ms < 0) at -= step_ms;
    if (out.empty() || out.back().at_ms != at) {
      out.emplace_back();
      out.back().at_ms = at;
    }
    HistoryPoint& p = out.back();
    ++p.minutes;
    p.arrivals += m.arrivals;
    p.admissions += m.admissions;
    p.expiries += m.expiries;
    p.left_line += m.left_line;
    p.unclaimed += m.unclaimed;
    p.sessions_expired += m.sessions_expired;
    p.waits.merge(m.waits);
    p.epoch = m.end.epoch;
    p.waiting = m.waiting;
    p.active_sessions = m.active_sessions;
    p.eta = m.eta;
    p.paused = m.paused;
  }
  return out;
}

}  // namespace waitroom::store
