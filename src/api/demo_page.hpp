#pragma once
// `make run`'s protected demo page, /demo/shop: the whole flow on one URL. It stands for the
// site a room protects and lets a visitor in only with a live pass of the configured room (the
// same check as the gate); anyone else is sent to the room page and comes back once admitted.
// Served only when the config names a room in `demo_room`.
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_demo_routes(http::Router& router, Services& services);

}  // namespace waitroom::api
