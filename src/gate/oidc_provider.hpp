#pragma once
// The OpenID Connect adapter (docs/integrations.md): each room is an OpenID provider at
// /oidc/{room}, so any relying party (AWS ALB, oauth2-proxy, Keycloak brokering, a web framework)
// can put the room in front of itself. "Signing in" is being admitted: a visitor without a live
// pass waits on the room page and comes back to the relying party once let in.
#include "core/clock.hpp"
#include "http/router.hpp"
#include "token/key_ring.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::gate {

// What the adapter uses: the visitor layer's (authorize checks the visitor's pass as every gate
// does), the keys that sign and verify its tokens and the clock for codes and expiries. Built in
// app/; it outlives the router.
struct OidcDeps : visitor::VisitorDeps {
  token::KeyRing& keys;
  const core::Clock& clock;
};

void add_oidc_routes(http::Router& router, const OidcDeps& deps);

}  // namespace waitroom::gate
