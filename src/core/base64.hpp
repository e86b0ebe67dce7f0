#pragma once
// Bytes as standard, padded base64 (RFC 4648 section 4): what HTTP Basic credentials and webhook
// signatures are written as. (JWTs use base64url, token/base64url.hpp.)
#include <string>
#include <string_view>

namespace waitroom::core {

std::string base64_encode(std::string_view bytes);

}  // namespace waitroom::core
