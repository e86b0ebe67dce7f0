#pragma once
// What a pass says, and the interface that signs it (token/jwt_pass_minter implements it), so
// the store decides *when* a pass is issued without knowing how passes are encoded.
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace waitroom::core {

struct PassRequest {
  std::string room;
  std::string algorithm;
  std::string issuer;
  std::string audience;
  std::string ticket;
  std::uint64_t position = 0;
  std::uint32_t epoch = 0;
  std::int64_t issued_at_s = 0;
  std::int64_t expires_at_s = 0;
};

class PassMinter {
 public:
  virtual ~PassMinter() = default;
  virtual Result<std::string> mint(const PassRequest& request) const = 0;
};

}  // namespace waitroom::core
