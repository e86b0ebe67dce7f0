#pragma once
// The public API of AWS's retired "Virtual Waiting Room on AWS" (reference/aws-vwr.md section 2),
// under a configurable prefix (default /aws), so its clients move here by changing one base URL.
// `event_id` is the room. Differences from AWS, each fixing an AWS bug, are listed in
// docs/aws-compatibility.md.
#include "api/aws_common.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_aws_public_routes(http::Router& router, const AwsDeps& deps);

}  // namespace waitroom::api
