#include "token/resume_token.hpp"

#include <openssl/evp.h>

#include <memory>

#include "token/base64url.hpp"
#include "token/hmac_sha256.hpp"

namespace waitroom::token {

namespace {

constexpr std::size_t kIdBytes = 16;
constexpr std::string_view kKeyLabel = "waitroom resume token v1";

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// One AES-256 block, no padding: encrypt or decrypt.
std::optional<std::array<unsigned char, kIdBytes>> aes_block(
    const std::array<unsigned char, 32>& key, const unsigned char* in, bool encrypt) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_ecb(), nullptr, key.data(), nullptr,
                                encrypt ? 1 : 0) != 1)
    return std::nullopt;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  std::array<unsigned char, kIdBytes> out{};
  int len = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in, static_cast<int>(kIdBytes)) != 1 ||
      len != static_cast<int>(kIdBytes))
    return std::nullopt;
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

ResumeTokens::ResumeTokens(std::string_view server_secret) {
  const std::string key = token::hmac_sha256(server_secret, kKeyLabel);
  std::copy(key.begin(), key.end(), key_.begin());
}

// The id's text is lowercase hex in the UUID shape 8-4-4-4-12.
std::optional<std::string> ResumeTokens::token_for(std::string_view ticket_id) const {
  if (ticket_id.size() != 36) return std::nullopt;
  std::array<unsigned char, kIdBytes> raw{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < ticket_id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (ticket_id[i] != '-') return std::nullopt;
      continue;
    }
    const int hi = hex_value(ticket_id[i]);
    const int lo = i + 1 < ticket_id.size() ? hex_value(ticket_id[i + 1]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    raw[n++] = static_cast<unsigned char>(hi * 16 + lo);
    ++i;
  }
  if (n != kIdBytes) return std::nullopt;
  auto sealed = aes_block(key_, raw.data(), true);
  if (!sealed) return std::nullopt;
  return token::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(sealed->data()), sealed->size()));
}

std::optional<std::string> ResumeTokens::ticket_for(std::string_view token) const {
  if (token.size() != 22) return std::nullopt;
  auto bytes = token::base64url_decode(token);
  if (!bytes || bytes->size() != kIdBytes) return std::nullopt;
  auto raw = aes_block(key_, reinterpret_cast<const unsigned char*>(bytes->data()), false);
  if (!raw) return std::nullopt;
  constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (std::size_t i = 0; i < kIdBytes; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[(*raw)[i] >> 4];
    id += kHex[(*raw)[i] & 15];
  }
  return id;
}

}  // namespace waitroom::token
