#pragma once
// Builds the Admitter in force for a room's admission settings and queueing method.
#include "core/admission/policies.hpp"
#include "core/room_settings.hpp"

namespace waitroom::core {

// The policy registered for settings.mode; under Queueing::passthrough, wrapped so that
// everyone goes in. Settings are expected to be validated (validate(AdmissionPolicy)).
AdmitterPtr make_admitter(const AdmissionPolicy& settings, Queueing queueing);

}  // namespace waitroom::core
