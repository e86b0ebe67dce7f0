#pragma once
// HMAC-SHA256 in one call, for keys derived from the server's secret and for MACs off the hot
// paths (about 1 µs each: OpenSSL fetches the algorithm every time; ticket ids, on the hot path,
// keep prepared contexts instead, token/ticket_id.cpp).
#include <string>
#include <string_view>

namespace waitroom::token {

// The 32-byte MAC of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace waitroom::token
