#include "store/redis/redis_operator_tokens.hpp"

#include <algorithm>
#include <cstdlib>

namespace waitroom::store::redis {

core::Result<Reply> RedisOperatorTokens::one(std::vector<std::string> command) {
  auto replies = redis_.pipeline({std::move(command)});
  if (!replies) return std::unexpected(replies.error());
  Reply& r = replies->front();
  if (r.is_error()) return core::fail(core::ErrorCode::unavailable, "Redis: " + r.str);
  return std::move(r);
}

core::Result<void> RedisOperatorTokens::used(const std::string& id, std::int64_t now_s) {
  {
    std::lock_guard lock(used_mu_);
    std::int64_t& written = used_[id];
    if (now_s - written < kLastUsedStepS) return {};
    written = now_s;
  }
  // Several nodes may note uses of one token: the latest stands.
  auto r = one({"EVAL",
                "local t = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') "
                "if tonumber(ARGV[2]) > t then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end "
                "return 1",
                "1", keys_.operator_tokens_used(), id, std::to_string(now_s)});
  if (!r) return std::unexpected(r.error());
  return {};
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
  auto replies = redis_.pipeline(
      {{"HGETALL", keys_.operator_tokens()}, {"HGETALL", keys_.operator_tokens_used()}});
  if (!replies) return std::unexpected(replies.error());
  for (const Reply& r : *replies)
    if (r.is_error()) return core::fail(core::ErrorCode::unavailable, "Redis: " + r.str);
  std::map<std::string, std::int64_t> used;
  const Reply& uses = (*replies)[1];
  for (std::size_t i = 1; i < uses.elements.size(); i += 2)
    used[uses.elements[i - 1].str] = std::strtoll(uses.elements[i].str.c_str(), nullptr, 10);
  std::vector<OperatorToken> out;
  const Reply& tokens = (*replies)[0];
  for (std::size_t i = 1; i < tokens.elements.size(); i += 2) {
    auto t = decode_token(tokens.elements[i].str);
    if (!t) return std::unexpected(t.error());
    if (auto it = used.find(t->id); it != used.end())
      t->last_used_s = std::max(t->last_used_s, it->second);
    out.push_back(std::move(*t));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace waitroom::store::redis
