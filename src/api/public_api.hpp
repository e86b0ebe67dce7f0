#pragma once
// The visitor-facing API under /v1: join a room's line, watch the ticket, claim the pass.
#include "http/router.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::api {

// The public API needs exactly what the visitor layer does: the store, the abuse guard and the
// cookie settings.
void add_public_routes(http::Router& router, const visitor::VisitorDeps& deps);

}  // namespace waitroom::api
