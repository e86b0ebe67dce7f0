#pragma once
// The one place room settings are read from and written to JSON: the admin API, the config file
// (via toml_to_json) and the store's log all go through here, so every path validates alike.
#include <boost/json/object.hpp>

#include "core/error.hpp"
#include "core/room_settings.hpp"

namespace waitroom::config {

// Applies the fields present in `fields` on top of `base`. Unknown fields, wrong types and
// out-of-range values are errors naming the field; `base` is not changed on error.
core::Result<core::RoomSettings> apply_room_settings(const boost::json::object& fields,
                                                     core::RoomSettings base);

// Whether OIDC client secrets are written out. The store's log needs them to restore the room;
// anything a person or another system reads (the admin API, audit events) gets them redacted:
// the "client_secret" field is left out, and a PUT that leaves it out keeps the secret.
enum class Secrets : bool { redact, include };

boost::json::object room_settings_to_json(const core::RoomSettings& settings, Secrets secrets);
boost::json::object admission_to_json(const core::AdmissionPolicy& admission);

}  // namespace waitroom::config
