#include "api/admin_tokens.hpp"

#include "api/json_io.hpp"
#include "core/room.hpp"
#include "http/problem.hpp"
#include "ops/log.hpp"

namespace waitroom::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::RequestContext;
using http::Response;
using http::Status;

namespace {
constexpr std::size_t kMaxNameChars = 64;
constexpr std::size_t kMaxRooms = 1000;
constexpr std::uint64_t kMaxLifetimeS = 10ull * 366 * 86'400;

json::object token_json(const store::OperatorToken& t) {
  json::array rooms;
  for (const auto& r : t.rooms) rooms.emplace_back(r);
  return json::object{{"id", t.id},
                      {"name", t.name},
                      {"role", store::role_name(t.role)},
                      {"rooms", std::move(rooms)},
                      {"created_at", t.created_at_s},
                      {"expires_at", t.expires_at_s ? json::value(t.expires_at_s) : nullptr},
                      {"revoked_at", t.revoked_at_s ? json::value(t.revoked_at_s) : nullptr},
                      {"last_used_at", t.last_used_s ? json::value(t.last_used_s) : nullptr}};
}

Response no_tokens(const http::Request& req) {
  return http::problem(req, Status::conflict, "operator tokens are not kept by this server");
}

bool printable_name(std::string_view name) {
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}
}  // namespace

asio::awaitable<Response> create_token(const AdminDeps& s, RequestContext& ctx,
                                       const AdminCaller&) {
  if (!s.tokens) co_return no_tokens(ctx.request);
  auto body = read_json_object(ctx.request);
  if (!body) co_return http::problem(ctx.request, body.error());
  for (const auto& [key, value] : *body)
    if (key != "name" && key != "role" && key != "rooms" && key != "expires_at" &&
        key != "expires_in_s")
      co_return http::problem(ctx.request, Status::bad_request,
                              "unknown field \"" + std::string(key) +
                                  "\" (name, role, rooms, expires_at, expires_in_s)");
  store::OperatorToken t;
  const json::value* name = body->if_contains("name");
  if (!name || !name->is_string() || name->as_string().empty() ||
      name->as_string().size() > kMaxNameChars || !printable_name(name->as_string()))
    co_return http::problem(ctx.request, Status::bad_request,
                            "name is required: 1-64 printable characters (who holds the token)");
  t.name = name->as_string();
  const json::value* role = body->if_contains("role");
  const auto parsed =
      role && role->is_string() ? store::parse_role(role->as_string()) : std::nullopt;
  if (!parsed)
    co_return http::problem(ctx.request, Status::bad_request,
                            "role is required: \"viewer\", \"operator\" or \"admin\"");
  t.role = *parsed;
  if (const json::value* rooms = body->if_contains("rooms")) {
    if (!rooms->is_array() || rooms->as_array().size() > kMaxRooms)
      co_return http::problem(ctx.request, Status::bad_request,
                              "rooms must be an array of room names (at most 1000)");
    for (const auto& r : rooms->as_array()) {
      if (!r.is_string() || !core::is_valid_room_name(r.as_string()))
        co_return http::problem(ctx.request, Status::bad_request,
                                "rooms must be an array of room names (at most 1000)");
      t.rooms.emplace_back(r.as_string());
    }
  }
  t.created_at_s = s.clock.now_s();
  auto at = read_uint(*body, "expires_at", 1, UINT32_MAX);
  if (!at) co_return http::problem(ctx.request, at.error());
  auto in = read_uint(*body, "expires_in_s", 1, kMaxLifetimeS);
  if (!in) co_return http::problem(ctx.request, in.error());
  if (*at && *in)
    co_return http::problem(ctx.request, Status::bad_request,
                            "give expires_at or expires_in_s, not both");
  if (*at) t.expires_at_s = static_cast<std::int64_t>(**at);
  if (*in) t.expires_at_s = t.created_at_s + static_cast<std::int64_t>(**in);
  if (t.expires_at_s != 0 && t.expires_at_s <= t.created_at_s)
    co_return http::problem(ctx.request, Status::bad_request, "expires_at is in the past");
  const store::NewTokenSecret secret = store::new_token_secret();
  t.id = secret.id;
  t.secret_sha256 = store::secret_hash(secret.secret);
  if (auto put = s.tokens->put(t); !put) co_return http::problem(ctx.request, put.error());
  ops::log_info(
      "operator token created",
      {{"token_id", t.id}, {"name", t.name}, {"role", std::string(store::role_name(t.role))}});
  json::object out = token_json(t);
  out["token"] = secret.text;  // shown once: only its hash is kept
  co_return json_ok(ctx.request, out, Status::created);
}

asio::awaitable<Response> list_tokens(const AdminDeps& s, RequestContext& ctx, const AdminCaller&) {
  if (!s.tokens) co_return no_tokens(ctx.request);
  auto tokens = s.tokens->list();
  if (!tokens) co_return http::problem(ctx.request, tokens.error());
  json::array out;
  for (const auto& t : *tokens) out.push_back(token_json(t));
  co_return json_ok(ctx.request, json::object{{"tokens", std::move(out)}});
}

asio::awaitable<Response> revoke_token(const AdminDeps& s, RequestContext& ctx,
                                       const AdminCaller&) {
  if (!s.tokens) co_return no_tokens(ctx.request);
  const std::string id(ctx.param("id"));
  auto found = s.tokens->find(id);
  if (!found) co_return http::problem(ctx.request, found.error());
  if (!*found)
    co_return http::problem(ctx.request, Status::not_found, "no operator token with id " + id);
  store::OperatorToken t = std::move(**found);
  if (t.revoked_at_s == 0) {
    t.revoked_at_s = s.clock.now_s();
    if (auto put = s.tokens->put(t); !put) co_return http::problem(ctx.request, put.error());
    ops::log_info("operator token revoked", {{"token_id", t.id}, {"name", t.name}});
  }
  co_return json_ok(ctx.request, token_json(t));
}

}  // namespace waitroom::api
