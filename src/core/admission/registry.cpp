#include "core/admission/registry.hpp"

#include <utility>

namespace waitroom::core {

namespace {

struct Registration {
  AdmissionMode mode;
  AdmitterPtr (*make)(const AdmissionPolicy&);
};

// One line per policy (docs/architecture-policies.md says how to add one).
constexpr Registration kPolicies[] = {
    {AdmissionMode::manual, make_manual_policy},
    {AdmissionMode::rate, make_rate_policy},
    {AdmissionMode::max_active, make_max_active_policy},
    {AdmissionMode::capacity, make_capacity_policy},
    {AdmissionMode::adaptive, make_adaptive_policy},
};

}  // namespace

AdmitterPtr make_admitter(const AdmissionPolicy& settings, Queueing queueing) {
  AdmitterPtr policy;
  for (const Registration& r : kPolicies)
    if (r.mode == settings.mode) policy = r.make(settings);
  // An unregistered mode (none today) admits nobody rather than everybody.
  if (!policy) policy = make_manual_policy(settings);
  if (queueing == Queueing::passthrough) return passthrough(std::move(policy), settings);
  return policy;
}

}  // namespace waitroom::core
