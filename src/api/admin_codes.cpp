#include "api/admin_codes.hpp"

#include "api/json_io.hpp"
#include "core/rfc3339.hpp"
#include "http/problem.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {
constexpr std::int64_t kMaxCodeLifetimeS = 10ll * 366 * 86'400;

json::object code_json(const core::AccessCode& c) {
  return json::object{
      {"id", c.id},
      {"lane", c.admit ? json::value(nullptr) : json::value(c.lane)},
      {"admit", c.admit},
      {"uses", c.uses},
      {"used", c.used},
      {"expires_at",
       c.expires_at_s ? json::value(core::format_rfc3339(*c.expires_at_s)) : json::value(nullptr)},
      {"created_at", core::format_rfc3339(c.created_at_s)},
      {"revoked", c.revoked}};
}

core::Result<engine::NewCode> read_new_code(const json::object& body, std::int64_t now_s) {
  using core::ErrorCode;
  using core::fail;
  engine::NewCode code;
  for (const auto& [key, value] : body) {
    if (key == "lane") {
      if (!value.is_string()) return fail(ErrorCode::bad_request, "lane must be a string");
      code.lane = value.get_string();
    } else if (key == "admit") {
      if (!value.is_bool()) return fail(ErrorCode::bad_request, "admit must be true or false");
      code.admit = value.get_bool();
    } else if (key == "uses") {
      if (!value.is_int64() || value.get_int64() < 1)
        return fail(ErrorCode::bad_request, "uses must be a whole number from 1");
      code.uses = static_cast<std::uint64_t>(value.get_int64());
    } else if (key == "code") {
      if (!value.is_string()) return fail(ErrorCode::bad_request, "code must be a string");
      code.code = std::string(value.get_string());
    } else if (key == "expires_at") {
      const auto at = value.is_string() ? core::parse_rfc3339(value.get_string()) : std::nullopt;
      if (!at) return fail(ErrorCode::bad_request, "expires_at must be an RFC 3339 time");
      code.expires_at_s = *at;
    } else if (key == "expires_in_s") {
      if (!value.is_int64() || value.get_int64() < 1 || value.get_int64() > kMaxCodeLifetimeS)
        return fail(ErrorCode::bad_request, "expires_in_s must be from 1 to " +
                                                std::to_string(kMaxCodeLifetimeS) + " seconds");
      code.expires_at_s = now_s + value.get_int64();
    } else {
      return fail(ErrorCode::bad_request, "unknown field \"" + std::string(key) + "\"");
    }
  }
  if (body.contains("expires_at") && body.contains("expires_in_s"))
    return fail(ErrorCode::bad_request, "give expires_at or expires_in_s, not both");
  return code;
}
}  // namespace

asio::awaitable<Response> create_code(const AdminDeps& s, RequestContext& ctx,
                                      const AdminCaller& caller) {
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  auto code = read_new_code(*body, s.clock.now_s());
  if (!code) co_return http::problem(ctx.request, code.error());
  const std::string room(ctx.param("room"));
  auto created = co_await s.store.add_code(room, std::move(*code), caller.actor());
  if (!created) co_return http::problem(ctx.request, created.error());
  json::object out = code_json(created->code);
  out["code"] = created->text;
  out["room"] = room;
  co_return http::json_response(ctx.request, Status::created, json::serialize(out));
}

asio::awaitable<Response> list_codes(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  const std::string room(ctx.param("room"));
  auto codes = co_await s.store.codes(room);
  if (!codes) co_return http::problem(ctx.request, codes.error());
  json::array out;
  for (const core::AccessCode& c : *codes) out.push_back(code_json(c));
  co_return json_ok(ctx.request, json::object{{"room", room}, {"codes", std::move(out)}});
}

asio::awaitable<Response> revoke_code(const AdminDeps& s, RequestContext& ctx,
                                      const AdminCaller& caller) {
  auto revoked = co_await s.store.revoke_code(std::string(ctx.param("room")),
                                              std::string(ctx.param("id")), caller.actor());
  if (!revoked) co_return http::problem(ctx.request, revoked.error());
  co_return json_ok(ctx.request, code_json(*revoked));
}

}  // namespace waitroom::api
