#pragma once
// What a room's sign-in keeps between sending the visitor to the identity provider and their
// return (web/sign_in): the state and nonce it sent, its PKCE verifier, and where the visitor was
// going. It travels in the visitor's own cookie, encrypted and authenticated (AES-256-GCM) with a
// key derived from the server secret: no server keeps it, any node of a cluster can finish the
// sign-in another started, and the PKCE verifier cannot be read from the cookie.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "token/sealed_box.hpp"

namespace waitroom::web {

// How long a visitor may take at the identity provider.
inline constexpr std::int64_t kSignInStateLifetimeS = 600;

struct SignInState {
  std::string room;
  std::string state;     // sent with the authorization request; must come back unchanged
  std::string nonce;     // must come back in the ID token
  std::string verifier;  // PKCE
  std::string return_url;
  std::string lang;
  std::uint64_t party_size = 1;
  std::int64_t expires_at_s = 0;

  bool operator==(const SignInState&) const = default;
};

// A fresh state, nonce and verifier (from the OS's CSPRNG) for `room`, expiring after
// kSignInStateLifetimeS; nullopt if the CSPRNG fails.
std::optional<SignInState> new_sign_in_state(std::string room, std::int64_t now_s);

class SignInStates {
 public:
  // The key is HMAC-SHA256(server_secret, "waitroom sign-in state v1").
  explicit SignInStates(std::string_view server_secret);

  // base64url(iv || AES-256-GCM(JSON) || tag): a cookie value.
  std::string seal(const SignInState& state) const;
  // The state sealed for `room`, if it decrypts and authenticates and has not expired at `now_s`.
  std::optional<SignInState> open(std::string_view sealed, std::string_view room,
                                  std::int64_t now_s) const;

 private:
  token::SealedBox box_;  // AES-256-GCM under HMAC-SHA256(server_secret, the label)
};

}  // namespace waitroom::web
