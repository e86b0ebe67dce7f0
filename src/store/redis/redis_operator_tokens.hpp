#pragma once
// The Redis store's operator tokens (store/operator_tokens.hpp): the hash PREFIX:tokens, id ->
// the token's JSON. Read at every use, so a token revoked on one node is refused by every node at
// once (an admin request costs one more round trip). Last uses are kept apart, in the hash
// PREFIX:tokens:used (id -> seconds), so that noting one never writes over a revocation.
#include <map>
#include <mutex>

#include "store/operator_tokens.hpp"
#include "store/redis/blocking_redis.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class RedisOperatorTokens final : public OperatorTokens {
 public:
  RedisOperatorTokens(RedisOptions options, RedisKeys keys)
      : keys_(std::move(keys)), redis_(std::move(options)) {}

  core::Result<void> used(const std::string& id, std::int64_t now_s) override;
  core::Result<void> put(const OperatorToken& token) override;
  core::Result<std::optional<OperatorToken>> find(const std::string& id) override;
  core::Result<std::vector<OperatorToken>> list() override;

 private:
  core::Result<Reply> one(std::vector<std::string> command);

  const RedisKeys keys_;
  BlockingRedis redis_;
  std::mutex used_mu_;
  std::map<std::string, std::int64_t> used_;  // the last use this node wrote, per token
};

}  // namespace waitroom::store::redis
