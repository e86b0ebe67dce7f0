#pragma once
// Every admission policy's factory, one line each; registry.cpp maps AdmissionMode to them.
// A policy's class stays inside its own file: this header and its tests are all anyone sees.
#include <memory>

#include "core/admission/admitter.hpp"

namespace waitroom::core {

using AdmitterPtr = std::shared_ptr<const Admitter>;

// Nobody is let in by the policy; an operator advances the line (owed turns still go in).
AdmitterPtr make_manual_policy(const AdmissionPolicy& settings);
// rate_per_minute, smoothly, from a bucket holding at most one second's share; with
// max_active set it runs under that ceiling (with_active_ceiling).
AdmitterPtr make_rate_policy(const AdmissionPolicy& settings);
// As many as keep active sessions plus unclaimed eligible tickets at max_active.
AdmitterPtr make_max_active_policy(const AdmissionPolicy& settings);
// Queue only when the site is full: under total_active held places and new_per_minute
// admissions in the last minute, visitors go straight in.
AdmitterPtr make_capacity_policy(const AdmissionPolicy& settings);
// Steered by the site's health: under the limit on places held that the room's controller finds
// (core/admission/adaptive_controller.hpp), paced between min_per_minute and max_per_minute.
AdmitterPtr make_adaptive_policy(const AdmissionPolicy& settings);

// Combinations.
// `inner`, never holding more than settings.max_active places (rate with a max_active ceiling).
AdmitterPtr with_active_ceiling(AdmitterPtr inner, const AdmissionPolicy& settings);
// Queueing = passthrough: everyone goes in at once, whatever `inner` would pace; the estimate
// and the window stay `inner`'s.
AdmitterPtr passthrough(AdmitterPtr inner, const AdmissionPolicy& settings);

}  // namespace waitroom::core
