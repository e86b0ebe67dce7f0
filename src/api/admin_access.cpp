#include "api/admin_access.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "api/auth_log.hpp"
#include "http/problem.hpp"
#include "ops/log.hpp"

namespace waitroom::api {

using http::Status;
using store::OperatorRole;

bool AdminCaller::may_use_room(std::string_view room) const {
  return rooms.empty() || std::find(rooms.begin(), rooms.end(), room) != rooms.end();
}

engine::Actor AdminCaller::actor() const {
  return engine::Actor{name, std::string(via_name(via)), token_id};
}

std::string_view via_name(AdminCaller::Via via) {
  switch (via) {
    case AdminCaller::Via::admin_key:
      return "admin_key";
    case AdminCaller::Via::token:
      return "token";
    case AdminCaller::Via::session:
      return "session";
    case AdminCaller::Via::sigv4:
      return "sigv4";
  }
  return "admin_key";
}

namespace {

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The token `id`'s caller when it is live; `secret` (the text's) must match when given.
std::optional<AdminCaller> stored_token_caller(store::OperatorTokens* tokens, std::int64_t now_s,
                                               const std::string& id, const std::string* secret,
                                               std::string& why) {
  if (!tokens) {
    why = "operator tokens are not kept by this server";
    return std::nullopt;
  }
  auto found = tokens->find(id);
  if (!found) {
    why = "operator tokens cannot be read: " + found.error().detail;
    return std::nullopt;
  }
  if (!*found || (secret && !same_secret((*found)->secret_sha256, store::secret_hash(*secret)))) {
    why = "unknown operator token";
    return std::nullopt;
  }
  const store::OperatorToken& t = **found;
  if (t.revoked_at_s != 0) {
    why = "revoked operator token " + t.id;
    return std::nullopt;
  }
  if (!t.live(now_s)) {
    why = "expired operator token " + t.id;
    return std::nullopt;
  }
  // Its last use is a note, not a condition: a store that cannot keep it does not refuse it.
  if (auto noted = tokens->used(t.id, now_s); !noted)
    ops::log_error("a token's last use could not be kept",
                   {{"token", t.id}, {"error", noted.error().detail}});
  return AdminCaller{AdminCaller::Via::token, t.role, t.rooms, t.name, t.id};
}

}  // namespace

std::optional<AdminCaller> operator_token_caller(store::OperatorTokens* tokens, std::int64_t now_s,
                                                 std::string_view text, std::string& why) {
  auto parts = store::split_token(text);
  if (!parts) return std::nullopt;
  return stored_token_caller(tokens, now_s, parts->first, &parts->second, why);
}

std::optional<AdminCaller> live_token_caller(store::OperatorTokens* tokens, std::int64_t now_s,
                                             const std::string& id, std::string& why) {
  return stored_token_caller(tokens, now_s, id, nullptr, why);
}

std::expected<AdminCaller, http::Response> identify_caller(const AdminDeps& s,
                                                           const http::Request& req,
                                                           const boost::asio::ip::address& peer) {
  if (is_admin(req, s.config.admin_key))
    return AdminCaller{AdminCaller::Via::admin_key, OperatorRole::admin, {}, "admin key", {}};
  const std::string_view bearer = http::bearer_token(req);
  std::string why;
  if (!bearer.empty() && s.tokens)
    if (auto caller = operator_token_caller(s.tokens, s.clock.now_s(), bearer, why)) return *caller;
  if (s.sessions && !s.config.admin_key.empty()) {
    const SessionAccess access = s.sessions->check(req);
    if (access.verdict == SessionAccess::Verdict::allowed) {
      const SessionCaller& c = access.caller;
      // A token's session acts, and is recorded in the audit trail, as the token; the admin key's
      // as "dashboard".
      return AdminCaller{AdminCaller::Via::session, c.role, c.rooms,
                         c.token_id.empty() ? "dashboard" : c.name, c.token_id};
    }
    if (access.verdict == SessionAccess::Verdict::ended) {
      log_auth_failure("dashboard_session", req, peer, access.reason);
      return std::unexpected(http::problem(req, Status::unauthorized,
                                           "the dashboard session has ended: " + access.reason));
    }
    if (access.verdict == SessionAccess::Verdict::forbidden) {
      log_auth_failure("dashboard_session", req, peer, access.reason);
      return std::unexpected(http::problem(req, Status::forbidden, access.reason));
    }
  }
  if (why.empty())
    why = s.config.admin_key.empty() ? "the admin API is disabled"
          : bearer.empty()           ? "no admin key, operator token or dashboard session"
                                     : "wrong admin key or operator token";
  log_auth_failure(bearer.starts_with("wrt_") ? "operator_token" : "admin_key", req, peer, why);
  return std::unexpected(http::problem(
      req, Status::unauthorized,
      s.config.admin_key.empty() && !bearer.starts_with("wrt_")
          ? "the admin API is disabled: set WAITROOM_ADMIN_KEY or admin_key_file"
          : "a valid admin key or operator token is required (Authorization: Bearer <key>)"));
}

std::optional<http::Response> refuse_caller(const http::Request& req, const AdminCaller& caller,
                                            OperatorRole role, std::string_view room) {
  if (caller.role < role)
    return http::problem(req, Status::forbidden,
                         "this needs the " + std::string(store::role_name(role)) +
                             " role; the token \"" + caller.name + "\" is " +
                             store::a_role(caller.role));
  if (room.empty() && !caller.rooms.empty())
    return http::problem(
        req, Status::forbidden,
        "this concerns every room; the token \"" + caller.name + "\" is limited to some rooms");
  if (!room.empty() && !caller.may_use_room(room))
    return http::problem(
        req, Status::forbidden,
        "the token \"" + caller.name + "\" may not use room \"" + std::string(room) + "\"");
  return std::nullopt;
}

}  // namespace waitroom::api
