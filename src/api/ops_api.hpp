#pragma once
// Health, readiness, Prometheus metrics and the JWKS: routes for operators' tools and gates.
#include "api/services.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_ops_routes(http::Router& router, Services& services);

}  // namespace waitroom::api
