#pragma once
// base64url (RFC 4648 section 5) without padding, as JWS compact serialization requires (RFC 7515).
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace waitroom::token {

// Encodes bytes as unpadded base64url.
std::string base64url_encode(std::string_view bytes);

// Decodes unpadded base64url. Rejects '=', characters outside the alphabet, a length of 1 mod 4
// (no byte sequence encodes to that) and non-zero trailing bits (so each value has one encoding).
std::optional<std::string> base64url_decode(std::string_view text);

// The most bytes `text.size()` characters decode to.
constexpr std::size_t decoded_size(std::size_t chars) { return chars * 3 / 4; }

// The same into `out` without allocating: the number of bytes written, or nullopt for bad text
// or an `out` shorter than decoded_size(text.size()).
std::optional<std::size_t> base64url_decode(std::string_view text, std::span<char> out);

}  // namespace waitroom::token
