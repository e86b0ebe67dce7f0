#pragma once
// What a pass says, and the interface that signs it (token/jwt_pass_minter implements it), so
// the store decides *when* a pass is issued without knowing how passes are encoded.
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/room_settings.hpp"

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
  // The "bind" claim: "cookie", "ip:203.0.113.0/24", or empty (not bound). See pass_binding().
  std::string binding;
  // The "party_size" claim: the seats the pass lets in (written when more than one).
  std::uint64_t party_size = 1;
};

// The binding a room binding passes by `mode` writes into a pass for a client in `client_prefix`.
inline std::string pass_binding(PassBinding mode, const std::string& client_prefix) {
  if (mode == PassBinding::cookie) return "cookie";
  if (mode == PassBinding::ip_prefix && !client_prefix.empty()) return "ip:" + client_prefix;
  return {};
}

class PassMinter {
 public:
  virtual ~PassMinter() = default;
  virtual Result<std::string> mint(const PassRequest& request) const = 0;
};

}  // namespace waitroom::core
