#pragma once
// The Redis store's operator tokens (store/operator_tokens.hpp): the hash PREFIX:tokens, id ->
// the token's JSON. Read at every use, so a token revoked on one node is refused by every node at
// once (an admin request costs one more round trip).
#include "store/operator_tokens.hpp"
#include "store/redis/blocking_redis.hpp"
#include "store/redis/redis_keys.hpp"
#include "store/redis/redis_options.hpp"

namespace waitroom::store::redis {

class RedisOperatorTokens final : public OperatorTokens {
 public:
  RedisOperatorTokens(RedisOptions options, RedisKeys keys)
      : keys_(std::move(keys)), redis_(std::move(options)) {}

  core::Result<void> put(const OperatorToken& token) override;
  core::Result<std::optional<OperatorToken>> find(const std::string& id) override;
  core::Result<std::vector<OperatorToken>> list() override;

 private:
  core::Result<Reply> one(std::vector<std::string> command);

  const RedisKeys keys_;
  BlockingRedis redis_;
};

}  // namespace waitroom::store::redis
