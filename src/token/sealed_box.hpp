#pragma once
// Small secrets the server keeps where others can read the bytes: a sign-in's state in the
// visitor's cookie (web/sign_in_state), visitors' e-mail addresses and push subscriptions in a
// room's durable log. AES-256-GCM under a key derived from the server's secret and a label, so
// each use has its own key from one secret, and what one seals no other opens.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::token {

inline constexpr std::size_t kSealedIvBytes = 12;
inline constexpr std::size_t kSealedTagBytes = 16;
// What sealing adds to a plaintext.
inline constexpr std::size_t kSealedOverheadBytes = kSealedIvBytes + kSealedTagBytes;

// Immutable after construction: safe to use from many threads at once.
class SealedBox {
 public:
  // The key is HMAC-SHA256(secret, label).
  SealedBox(std::string_view secret, std::string_view label);

  // iv (12 random bytes) || AES-256-GCM(plaintext) || tag (16 bytes). `associated_data` (say the
  // room and ticket a value belongs to) is authenticated, not stored: open must be given the same,
  // so a sealed value copied to another place does not open there. Empty only if the CSPRNG or
  // the cipher fails, which open refuses.
  std::string seal(std::string_view plaintext, std::string_view associated_data = {}) const;
  // The plaintext, if `sealed` came from seal with this key and `associated_data`, unchanged.
  std::optional<std::string> open(std::string_view sealed,
                                  std::string_view associated_data = {}) const;

 private:
  std::string key_;
};

}  // namespace waitroom::token
