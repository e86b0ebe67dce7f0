#pragma once
// Who calls the admin API and what they may do (docs/admin-api.md, "Operator tokens and roles").
// A caller is the bootstrap admin key (an admin), an operator token (its role, perhaps limited to
// some rooms, perhaps expiring) or a dashboard session. Each admin route names the role it needs;
// a route of one room also needs a token that may use that room, and a route of no room (keys,
// tokens, compaction) a token limited to none.
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/admin_api.hpp"
#include "engine/effects.hpp"
#include "http/message.hpp"
#include "store/operator_tokens.hpp"

namespace waitroom::api {

struct AdminCaller {
  enum class Via { admin_key, token, session, sigv4 };
  Via via = Via::admin_key;
  store::OperatorRole role = store::OperatorRole::admin;
  std::vector<std::string> rooms;  // empty: every room
  std::string
      name;  // the token's name; "admin key", "dashboard" or the AWS access key id otherwise
  std::string token_id;  // the token's id; empty otherwise

  bool may_use_room(std::string_view room) const;
  // Who its changes' events name (data.actor).
  engine::Actor actor() const;
};

// "admin_key", "token", "session", "sigv4": the audit trail's and the events' `via`.
std::string_view via_name(AdminCaller::Via via);

// The caller of a live operator token, from its text ("wrt_<id>_<secret>"); nullopt, with why
// in `why` (for the log; empty when the text is not shaped like a token), when it is not one.
// The dashboard signs in with it too.
std::optional<AdminCaller> operator_token_caller(store::OperatorTokens* tokens, std::int64_t now_s,
                                                 std::string_view text, std::string& why);
// The caller of the token `id` while it is live: a dashboard session signed in with a token
// checks it again at every use. nullopt, with why, once it is revoked, expired or gone.
std::optional<AdminCaller> live_token_caller(store::OperatorTokens* tokens, std::int64_t now_s,
                                             const std::string& id, std::string& why);

// The request's caller, or the problem to answer: 401 without a valid credential (logged, never
// with what was sent), 403 for a dashboard session's state change without its CSRF token.
std::expected<AdminCaller, http::Response> identify_caller(const AdminDeps& deps,
                                                           const http::Request& req,
                                                           const boost::asio::ip::address& peer);

// A 403 problem naming what is missing when `caller` may not do what needs `role` on `room`
// (empty: a route of no room); nullopt when it may.
std::optional<http::Response> refuse_caller(const http::Request& req, const AdminCaller& caller,
                                            store::OperatorRole role, std::string_view room);

}  // namespace waitroom::api
