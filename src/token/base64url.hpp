#pragma once
// base64url (RFC 4648 section 5) without padding, as JWS compact serialization requires (RFC 7515).
#include <optional>
#include <string>
#include <string_view>

namespace waitroom::token {

// Encodes bytes as unpadded base64url.
std::string base64url_encode(std::string_view bytes);

// Decodes unpadded base64url. Rejects '=', characters outside the alphabet, a length of 1 mod 4
// (no byte sequence encodes to that) and non-zero trailing bits (so each value has one encoding).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace waitroom::token
