#pragma once
// PKCE (RFC 7636) with the S256 method only: "plain" would send the verifier itself through the
// browser, which is what PKCE exists to avoid. Both sides use it: the OIDC adapter (gate/) checks
// its clients' verifiers, and a room's sign-in (web/sign_in) sends a challenge as a client.
#include <string>
#include <string_view>

namespace waitroom::token {

// 43-128 characters of [A-Z a-z 0-9 - . _ ~] (RFC 7636 section 4.1).
bool is_valid_code_verifier(std::string_view verifier);
// What S256 makes of any verifier: 43 base64url characters (32 bytes of SHA-256, unpadded).
bool is_valid_s256_challenge(std::string_view challenge);
// BASE64URL(SHA256(ASCII(verifier))).
std::string s256_challenge(std::string_view verifier);
// Whether `verifier` is well formed and hashes to `challenge`; constant-time in the comparison.
bool pkce_s256_matches(std::string_view verifier, std::string_view challenge);

}  // namespace waitroom::token
