#pragma once
// What the AWS-compatible public and private APIs share: AWS's answer format ({"error": ...} with
// CORS), request-id checks, the token set and the generate_token flow.
#include <boost/json.hpp>
#include <functional>

#include "core/clock.hpp"
#include "http/router.hpp"
#include "store/audit_trail.hpp"
#include "token/key_ring.hpp"
#include "visitor/visitor_deps.hpp"

namespace waitroom::api {

// What the AWS-compatible APIs use, public and private: the visitor layer's (they hand out passes
// and binding cookies, and guard visitors), plus the keys for AWS's token set and public_key and
// the clock for expiries and SigV4. Built in app/; it outlives the router.
struct AwsDeps : visitor::VisitorDeps {
  token::KeyRing& keys;
  const core::Clock& clock;
  // Where the private API's changes are recorded with their signer (api/admin_audit.hpp); null:
  // nowhere.
  store::AuditTrail* audit = nullptr;
};

http::Response aws_json(const http::Request& req, http::Status status,
                        const boost::json::value& body);
http::Response aws_error(const http::Request& req, http::Status status, std::string_view message);
// Exactly the 36-character form of our ticket ids (AWS's regex matched a prefix only).
bool is_request_id(std::string_view id);
std::optional<std::string> body_string(const boost::json::object& body, std::string_view field);
std::optional<boost::json::object> body_object(const http::Request& req);
// The room named by the query's event_id.
boost::asio::awaitable<core::Result<store::RoomView>> event_room(const AwsDeps& s,
                                                                 std::string_view query);
// access_token (the ticket's pass), refresh_token and id_token (same claims and kid, another
// token_use), token_type and expires_in.
core::Result<boost::json::object> token_set(const AwsDeps& s, const std::string& access,
                                            std::int64_t expires_in);

using PassOptionsReader =
    std::function<core::Result<store::PassOptions>(const boost::json::object&)>;
// POST generate_token, public or private: they differ in the overrides they read, and in whether
// the caller is the visitor (public) or a back end acting for them (private).
boost::asio::awaitable<http::Response> generate_token(const AwsDeps& s, http::RequestContext& ctx,
                                                      PassOptionsReader read_options,
                                                      bool caller_is_visitor);
// API Gateway's OPTIONS mock: CORS headers, empty body.
http::Handler cors_preflight(std::string_view methods);

}  // namespace waitroom::api
