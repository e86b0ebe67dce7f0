#pragma once
// The visitor's waiting-room page at /r/{room}, rendered on the server so that it works with
// JavaScript off: join the line, see your place and estimate, ask again, and go in with a pass
// cookie for the gates once admitted. `Accept: application/json` gives the same state as JSON.
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_room_page_routes(http::Router& router, Services& services);

}  // namespace waitroom::api
