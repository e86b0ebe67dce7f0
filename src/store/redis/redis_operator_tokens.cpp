#include "store/redis/redis_operator_tokens.hpp"

namespace waitroom::store::redis {

core::Result<Reply> RedisOperatorTokens::one(std::vector<std::string> command) {
  auto replies = redis_.pipeline({std::move(command)});
  if (!replies) return std::unexpected(replies.error());
  Reply& r = replies->front();
  if (r.is_error()) return core::fail(core::ErrorCode::unavailable, "Redis: " + r.str);
  return std::move(r);
}

core::Result<void> RedisOperatorTokens::put(const OperatorToken& token) {
  auto r = one({"HSET", keys_.operator_tokens(), token.id, encode_token(token)});
  if (!r) return std::unexpected(r.error());
  return {};
}

core::Result<std::optional<OperatorToken>> RedisOperatorTokens::find(const std::string& id) {
  auto r = one({"HGET", keys_.operator_tokens(), id});
  if (!r) return std::unexpected(r.error());
  if (r->type == Reply::Type::nil) return std::optional<OperatorToken>();
  auto t = decode_token(r->str);
  if (!t) return std::unexpected(t.error());
  return std::optional<OperatorToken>(std::move(*t));
}

core::Result<std::vector<OperatorToken>> RedisOperatorTokens::list() {
  auto r = one({"HGETALL", keys_.operator_tokens()});
  if (!r) return std::unexpected(r.error());
  std::vector<OperatorToken> out;
  for (std::size_t i = 1; i < r->elements.size(); i += 2) {
    auto t = decode_token(r->elements[i].str);
    if (!t) return std::unexpected(t.error());
    out.push_back(std::move(*t));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace waitroom::store::redis
