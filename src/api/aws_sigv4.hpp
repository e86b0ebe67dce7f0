#pragma once
// Verifies AWS Signature Version 4 (header form, AWS4-HMAC-SHA256) on requests that AWS's
// virtual-waiting-room control panel and inlet functions sign with aws4fetch or botocore for
// service "execute-api", so those callers can use Waitroom's private API unchanged.
//
// What is checked, as AWS does it:
// - Authorization: AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/aws4_request,
//   SignedHeaders=a;b;c, Signature=<64 hex>. Query-string presigning (X-Amz-Signature) is not
//   supported.
// - X-Amz-Date (YYYYMMDDTHHMMSSZ) is required; the `Date` header fallback AWS allows is not
//   supported (neither client uses it). Its date must equal the credential scope's date and it
//   must lie within max_skew_s of the clock.
// - SignedHeaders must be lowercase, sorted and unique, include `host` and every x-amz-* header of
//   the request (so X-Amz-Security-Token, if sent, is covered; its value is NOT validated: there
//   is no STS here, the access key alone authenticates).
// - Payload hash: hex(SHA-256(body)); an X-Amz-Content-Sha256 header must equal it, except the
//   literal UNSIGNED-PAYLOAD, which is accepted and signed as-is (the body is then NOT
//   authenticated, as with AWS).
// - Canonical URI (execute-api, i.e. every service except S3): the path as received on the wire
//   (already percent-encoded once by the client) gets dot segments and empty segments removed and
//   is then percent-encoded once more, every byte but A-Za-z0-9-_.~ and '/'. This is AWS's "encode
//   each segment twice" rule as botocore and aws4fetch implement it: "/a%20b" signs as
//   "/a%2520b"; a path of unreserved characters only signs as itself.
// - Canonical query: pairs split on '&' and the first '=', decoded as form data ('+' is a space,
//   bad %-escapes stay literal), empty names dropped (aws4fetch drops them), re-encoded with
//   uppercase %XX, sorted by name then value.
// - Header values: trimmed, inner runs of spaces/tabs collapsed, repeated headers joined by ','.
// Every failure is ErrorCode::unauthorized with a detail naming the failed check; details never
// contain a secret. Thread-safe: verify() is const and touches no shared mutable state.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace waitroom::api {

struct AwsCredential {
  std::string access_key_id;
  std::string secret_access_key;
};

// Everything of the HTTP request that SigV4 covers; header names may come in any case.
struct SignedRequest {
  std::string_view method;  // "GET"
  std::string_view path;    // raw path as received, e.g. "/private/increment_serving_counter"
  std::string_view query;   // raw query string after '?', may be empty
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // all request headers
  std::string_view body;
};

struct SigV4Identity {
  std::string access_key_id;
  std::string region;
  std::string service;
};

// The access key id an `Authorization: AWS4-HMAC-SHA256 Credential=...` header names, for a
// request verify() accepted already (who made it, for the audit trail); nullopt if malformed.
std::optional<std::string> signing_access_key_id(std::string_view authorization);

class SigV4Verifier {
 public:
  // `service` is what the credential scope must name ("execute-api"); `max_skew_s` bounds
  // |X-Amz-Date - now| (AWS uses 15 minutes). With duplicate access key ids the first one wins.
  SigV4Verifier(std::vector<AwsCredential> credentials, std::string service,
                const core::Clock& clock, std::int64_t max_skew_s = 900);

  core::Result<SigV4Identity> verify(const SignedRequest& request) const;

 private:
  const AwsCredential* find_credential(std::string_view access_key_id) const;

  std::vector<AwsCredential> credentials_;
  std::string service_;
  const core::Clock& clock_;
  std::int64_t max_skew_s_;
};

}  // namespace waitroom::api
