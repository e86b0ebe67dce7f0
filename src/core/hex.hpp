#pragma once
// Bytes as lowercase hex, and the SHA-256 of bytes as such: what ids, commitments and stored
// secret hashes are written as.
#include <string>
#include <string_view>

namespace waitroom::core {

std::string lower_hex(std::string_view bytes);
std::string sha256_hex(std::string_view data);

}  // namespace waitroom::core
