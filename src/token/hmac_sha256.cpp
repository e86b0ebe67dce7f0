#include "token/hmac_sha256.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

namespace waitroom::token {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    std::abort();  // OpenSSL without HMAC-SHA256 is a broken installation, not a runtime condition
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace waitroom::token
