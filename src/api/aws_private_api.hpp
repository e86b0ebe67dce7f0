#pragma once
// AWS's private (IAM-signed) API under <aws_prefix>/private (reference/aws-vwr.md section 3):
// what its control panel, inlet functions and OIDC adapter call. Callers authenticate with the
// admin bearer key or with AWS Signature V4 by an access key from the config (aws_credentials).
#include "api/aws_common.hpp"
#include "http/router.hpp"

namespace waitroom::api {

void add_aws_private_routes(http::Router& router, const AwsDeps& deps);

}  // namespace waitroom::api
