#pragma once
// Sign-in at a room's identity provider (docs/admission.md, "Sign-in"): Waitroom as an OpenID
// Connect relying party, Authorization Code flow with PKCE.
//   GET /r/{room}/login             to the provider's authorization endpoint, with a sealed state
//                                   in the waitroom-login-{room} cookie (web/sign_in_state)
//   GET /r/{room}/login/callback    the provider's answer: the code is exchanged and its ID token
//                                   checked (store/sign_in_providers), then the visitor joins as
//                                   that account (one place per person) and goes to the page
// A sign-in that does not complete answers the room's page with a notice saying why (400 for a
// state that is not this browser's, 401 for a refused code or ID token, 503 when the provider
// cannot be reached, 200 when the visitor cancelled) and takes no place.
#include "http/router.hpp"
#include "web/room_page.hpp"
#include "web/site.hpp"

namespace waitroom::web {

void add_sign_in_routes(http::Router& router, const RoomPageDeps& deps, const Site& site);

}  // namespace waitroom::web
