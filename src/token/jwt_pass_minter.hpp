#pragma once
// Turns a core::PassRequest into a signed JWT: the pass an admitted visitor carries.
#include "core/pass_minter.hpp"
#include "token/key_ring.hpp"

namespace waitroom::token {

// Claims: iss sub(ticket) aud exp iat nbf jti queue_position token_use("access") — AWS's claim set
// (reference/aws-vwr.md section 4.2) plus jti, so a gate can refer to one pass exactly.
class JwtPassMinter final : public core::PassMinter {
 public:
  explicit JwtPassMinter(const KeyRing& keys) : keys_(keys) {}
  core::Result<std::string> mint(const core::PassRequest& request) const override;

 private:
  const KeyRing& keys_;
};

}  // namespace waitroom::token
