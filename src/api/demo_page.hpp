#pragma once
// `make run`'s protected demo page, /demo/shop: the whole flow on one URL. It stands for the
// site a room protects and lets a visitor in only with a live pass of the configured room (the
// same check as the gate); anyone else is sent to the room page and comes back once admitted.
// Served only when the config names a room in `demo_room`.
#include "http/router.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::api {

// The shop checks passes as the gates do, so it needs what they need: the visitor layer's.
void add_demo_routes(http::Router& router, const visitor::VisitorDeps& deps);

}  // namespace waitroom::api
