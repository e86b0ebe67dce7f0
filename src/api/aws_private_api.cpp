#include "api/aws_private_api.hpp"

#include <memory>

#include "api/admin_access.hpp"
#include "api/admin_api.hpp"
#include "api/admin_audit.hpp"
#include "api/auth_log.hpp"
#include "api/aws_common.hpp"
#include "api/aws_sigv4.hpp"
#include "http/problem.hpp"
#include "store/operator_tokens.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorCode;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {

constexpr std::string_view kSigV4Service = "execute-api";
constexpr std::int64_t kMaxIncrementBy = 1'000'000'000;

// Body fields AWS's private generate_token accepts on top of the public ones; they apply to this
// first issuance only (AWS's override leaked into later requests).
core::Result<store::PassOptions> read_overrides(const json::object& body) {
  store::PassOptions options;
  if (const json::value* issuer = body.if_contains("issuer")) {
    if (!issuer->is_string() || issuer->get_string().empty())
      return core::fail(ErrorCode::bad_request, "issuer must be a non-empty string");
    options.issuer = std::string(issuer->get_string());
  }
  if (const json::value* validity = body.if_contains("validity_period")) {
    const auto v =
        validity->is_int64() ? std::optional<std::int64_t>(validity->get_int64()) : std::nullopt;
    if (!v || *v < 1 || *v > core::kMaxPassLifetimeS)
      return core::fail(ErrorCode::bad_request, "validity_period must be an integer from 1 to " +
                                                    std::to_string(core::kMaxPassLifetimeS));
    options.lifetime_s = *v;
  }
  return options;
}

asio::awaitable<Response> increment_serving_counter(const AwsDeps& s, RequestContext& ctx,
                                                    const AdminCaller& caller) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  if (!event) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  const json::value* by = body->if_contains("increment_by");
  // AWS let a negative increment move the line back; Waitroom's serving counter never does.
  if (!by || !by->is_int64() || by->get_int64() < 1 || by->get_int64() > kMaxIncrementBy)
    co_return aws_error(ctx.request, Status::bad_request,
                        "increment_by must be an integer from 1 to 1000000000");
  auto serving = co_await s.store.advance(
      *event, store::Advance{static_cast<std::uint64_t>(by->get_int64()), std::nullopt},
      caller.actor());
  if (!serving) {
    if (serving.error().code == ErrorCode::not_found)
      co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
    co_return aws_error(ctx.request, http::status_of(serving.error().code), serving.error().detail);
  }
  co_return aws_json(ctx.request, Status::ok, json::object{{"serving_num", *serving}});
}

asio::awaitable<Response> update_session(const AwsDeps& s, RequestContext& ctx,
                                         const AdminCaller& caller) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  auto id = body ? body_string(*body, "request_id") : std::nullopt;
  if (!event || !id || !is_request_id(*id))
    co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  // Checked before anything is written (AWS wrote other values, then failed with a 500).
  const json::value* status = body->if_contains("status");
  if (!status || !status->is_int64() || (status->get_int64() != 1 && status->get_int64() != -1))
    co_return aws_error(ctx.request, Status::bad_request,
                        "status must be 1 (completed) or -1 (abandoned)");
  const auto end =
      status->get_int64() == 1 ? core::TicketStatus::completed : core::TicketStatus::abandoned;
  auto room = co_await s.store.room(*event);
  if (!room) co_return aws_error(ctx.request, Status::bad_request, "Invalid event or request ID");
  // AWS's condition: the session exists and is still active (ending it again is refused, where
  // the native admin API treats a repeat as a no-op).
  auto before = co_await s.store.ticket(*event, *id);
  if (before && before->state.status != core::TicketStatus::admitted)
    co_return aws_error(ctx.request, Status::not_found,
                        "Request ID doesn't exist or status already set.");
  auto t = co_await s.store.end_session(*event, *id, end, caller.actor());
  if (!t) {
    const ErrorCode code = t.error().code;
    if (code == ErrorCode::not_found || code == ErrorCode::gone || code == ErrorCode::conflict)
      co_return aws_error(ctx.request, Status::not_found,
                          "Request ID doesn't exist or status already set.");
    co_return aws_error(ctx.request, http::status_of(code), t.error().detail);
  }
  co_return aws_json(
      ctx.request, Status::ok,
      json::object{
          {"event_id", *event}, {"request_id", *id}, {"status", core::to_string(t->state.status)}});
}

asio::awaitable<Response> num_active_tokens(const AwsDeps& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  co_return aws_json(ctx.request, Status::ok,
                     json::object{{"active_tokens", r->counters.active_sessions}});
}

asio::awaitable<Response> expired_tokens(const AwsDeps& s, RequestContext& ctx) {
  auto r = co_await event_room(s, ctx.query);
  if (!r) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  auto ids = co_await s.store.expired_tickets(r->name);
  if (!ids) co_return aws_error(ctx.request, http::status_of(ids.error().code), ids.error().detail);
  json::array out;
  for (auto& id : *ids) out.emplace_back(std::move(id));
  co_return aws_json(ctx.request, Status::ok, out);
}

asio::awaitable<Response> reset_initial_state(const AwsDeps& s, RequestContext& ctx,
                                              const AdminCaller& caller) {
  auto body = body_object(ctx.request);
  auto event = body ? body_string(*body, "event_id") : std::nullopt;
  if (!event) co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
  // Synchronous and atomic; a wrong event id is refused (AWS answered 200 and reset nothing).
  auto r = co_await s.store.reset(*event, caller.actor());
  if (!r) {
    if (r.error().code == ErrorCode::not_found)
      co_return aws_error(ctx.request, Status::bad_request, "Invalid event ID");
    co_return aws_error(ctx.request, http::status_of(r.error().code), r.error().detail);
  }
  co_return aws_json(ctx.request, Status::ok, json::object{{"message", "Reset completed"}});
}

// The role each private route needs of a signed caller (docs/security.md, "Operator tokens and
// roles"): reads for a viewer, serving and sessions for an operator, a reset for an admin.
store::OperatorRole role_needed(std::string_view path) {
  const std::string_view route = path.substr(path.rfind('/') + 1);
  if (route == "num_active_tokens" || route == "expired_tokens") return store::OperatorRole::viewer;
  if (route == "reset_initial_state") return store::OperatorRole::admin;
  return store::OperatorRole::operator_;
}

// An access key's role: its `role` in aws_credentials, admin when it names none.
store::OperatorRole role_of(const AwsDeps& s, const std::string& access_key_id) {
  const auto configured = s.config.aws_credential_roles.find(access_key_id);
  return configured == s.config.aws_credential_roles.end()
             ? store::OperatorRole::admin
             : store::parse_role(configured->second).value_or(store::OperatorRole::viewer);
}

// Who made a request the guard let in: the admin key, or the access key that signed it.
AdminCaller signer_of(const AwsDeps& s, const http::Request& req) {
  if (is_admin(req, s.config.admin_key))
    return AdminCaller{
        AdminCaller::Via::admin_key, store::OperatorRole::admin, {}, "admin key", {}};
  const std::string id =
      signing_access_key_id(http::header_value(req, "Authorization")).value_or("");
  return AdminCaller{AdminCaller::Via::sigv4, role_of(s, id), {}, id, {}};
}

// Admin bearer key, or an AWS SigV4 signature by a configured access key whose role allows the
// route. Preflights pass: the browser sends them without credentials.
http::Guard private_guard(const AwsDeps& s) {
  std::vector<AwsCredential> credentials;
  for (const auto& [id, secret] : s.config.aws_credentials) credentials.push_back({id, secret});
  auto verifier =
      std::make_shared<SigV4Verifier>(std::move(credentials), std::string(kSigV4Service), s.clock);
  return [&s, verifier](const http::Request& req,
                        const boost::asio::ip::address& peer) -> std::optional<Response> {
    if (req.method() == http::Method::options || is_admin(req, s.config.admin_key))
      return std::nullopt;
    const std::string_view target = req.target();
    const auto q = target.find('?');
    SignedRequest signed_request{
        req.method_string(),
        target.substr(0, q),
        q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
        {},
        req.body()};
    for (const auto& field : req)
      signed_request.headers.emplace_back(field.name_string(), field.value());
    auto identity = verifier->verify(signed_request);
    if (!identity) {
      log_auth_failure("aws_sigv4", req, peer, identity.error().detail);
      // API Gateway's answer to a failed IAM check: 403 with a "message".
      return aws_json(req, Status::forbidden, json::object{{"message", identity.error().detail}});
    }
    const store::OperatorRole role = role_of(s, identity->access_key_id);
    const store::OperatorRole needed = role_needed(target.substr(0, q));
    if (role < needed)
      return aws_json(
          req, Status::forbidden,
          json::object{{"message", "this needs the " + std::string(store::role_name(needed)) +
                                       " role; access key " + identity->access_key_id + " is " +
                                       store::a_role(role)}});
    return std::nullopt;
  };
}

using Change = asio::awaitable<Response> (*)(const AwsDeps&, RequestContext&, const AdminCaller&);

// Runs a change for its signer and records it in the audit trail when it succeeded: the room is
// the body's event_id, the details the body.
asio::awaitable<Response> run_change(const AwsDeps& s, Change change, RequestContext& ctx,
                                     std::string action) {
  const AdminCaller caller = signer_of(s, ctx.request);
  Response res = co_await change(s, ctx, caller);
  if (!s.audit || res.result_int() >= 300) co_return res;
  json::object details = body_object(ctx.request).value_or(json::object{});
  std::string room = body_string(details, "event_id").value_or("");
  details.erase("event_id");
  record_change(s.audit, s.clock, caller, ctx, std::move(action), std::move(room), res.result_int(),
                std::move(details));
  co_return res;
}

}  // namespace

void add_aws_private_routes(http::Router& router, const AwsDeps& s) {
  using http::Method;
  using Fn = asio::awaitable<Response> (*)(const AwsDeps&, RequestContext&);
  const std::string base = s.config.aws_prefix + "/private";
  router.guard(base + "/", private_guard(s));
  auto preflight = [&](Method method, std::string_view path) {
    router.add(Method::options, base + std::string(path),
               cors_preflight(method == Method::post ? "OPTIONS,POST" : "GET,OPTIONS"));
  };
  auto add = [&](Method method, std::string_view path, Fn fn) {
    router.add(method, base + std::string(path), [&s, fn](RequestContext& c) { return fn(s, c); });
    preflight(method, path);
  };
  // A change: its events and its audit entry name who signed it (docs/security.md).
  auto add_change = [&](std::string_view path, Change fn) {
    router.add(Method::post, base + std::string(path),
               [&s, fn, action = "POST " + base + std::string(path)](RequestContext& c) {
                 return run_change(s, fn, c, action);
               });
    preflight(Method::post, path);
  };
  add(Method::post, "/generate_token", [](const AwsDeps& sv, RequestContext& c) {
    return generate_token(sv, c, read_overrides, false);
  });
  add_change("/increment_serving_counter", increment_serving_counter);
  add_change("/update_session", update_session);
  add(Method::get, "/num_active_tokens", num_active_tokens);
  add(Method::get, "/expired_tokens", expired_tokens);
  add_change("/reset_initial_state", reset_initial_state);
}

}  // namespace waitroom::api
