#pragma once
// The forward-auth gate (docs/integrations.md): nginx auth_request, Caddy forward_auth and
// Traefik ForwardAuth ask it whether a request carries a live pass for a room.
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::gate {

void add_forward_auth_routes(http::Router& router, api::Services& services);

}  // namespace waitroom::gate
