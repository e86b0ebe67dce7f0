#pragma once
// The [[webhooks]] tables of waitroom.toml:
//
//   [[webhooks]]
//   url = "https://hooks.example.com/waitroom"   # required, http:// or https://
//   secret_file = "/etc/waitroom/webhook.secret" # or secret = "..." (exactly one of the two)
//   types = ["room.reset", "room.paused"]        # optional; default: every event type
//   max_queue = 100000                           # accepted, no effect (webhook_max_lag_mb bounds)
//   timeout_ms = 5000                            # optional; one delivery attempt
//   ca_file = "/etc/waitroom/private-ca.pem"     # optional; https CAs instead of the system's
#include <toml++/toml.h>

#include <vector>

#include "core/error.hpp"
#include "ops/webhook_sink.hpp"

namespace waitroom::ops {

// `webhooks` is the value of the top-level "webhooks" key; nullptr means none configured.
// Errors are bad_request and name the entry and key, e.g. "config: webhooks[1].url: is required".
// A secret_file is read here (relative paths from the working directory), trailing whitespace
// trimmed, so a missing or empty file stops start-up rather than the first delivery.
core::Result<std::vector<WebhookConfig>> parse_webhooks(const toml::array* webhooks);

}  // namespace waitroom::ops
