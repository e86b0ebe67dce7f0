#pragma once
// The forward-auth gate (docs/integrations.md): nginx auth_request, Caddy forward_auth and
// Traefik ForwardAuth ask it whether a request carries a live pass for a room.
#include "http/router.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::gate {

// The gate needs what the pass check does, and no more.
void add_forward_auth_routes(http::Router& router, const visitor::VisitorDeps& deps);

}  // namespace waitroom::gate
