#pragma once
// The OpenID Connect adapter (docs/integrations.md): each room is an OpenID provider at
// /oidc/{room}, so any relying party (AWS ALB, oauth2-proxy, Keycloak brokering, a web framework)
// can put the room in front of itself. "Signing in" is being admitted: a visitor without a live
// pass waits on the room page and comes back to the relying party once let in.
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::gate {

void add_oidc_routes(http::Router& router, api::Services& services);

}  // namespace waitroom::gate
