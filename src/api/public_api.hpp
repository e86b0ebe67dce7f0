#pragma once
// The visitor-facing API under /v1: join a room's line, watch the ticket, claim the pass.
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_public_routes(http::Router& router, Services& services);

}  // namespace waitroom::api
