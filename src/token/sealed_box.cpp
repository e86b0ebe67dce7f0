#include "token/sealed_box.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>

#include "token/hmac_sha256.hpp"

namespace waitroom::token {
namespace {

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

unsigned char* bytes_of(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The associated data goes in before any plaintext; none is the same as no call at all.
bool add_associated_data(EVP_CIPHER_CTX* ctx, std::string_view associated_data) {
  int len = 0;
  return associated_data.empty() || EVP_CipherUpdate(ctx, nullptr, &len, bytes_of(associated_data),
                                                     static_cast<int>(associated_data.size())) == 1;
}

}  // namespace

SealedBox::SealedBox(std::string_view secret, std::string_view label)
    : key_(hmac_sha256(secret, label)) {}

std::string SealedBox::seal(std::string_view plaintext, std::string_view associated_data) const {
  if (plaintext.size() > INT_MAX - kSealedOverheadBytes || associated_data.size() > INT_MAX)
    return {};
  std::string out(kSealedIvBytes + plaintext.size() + kSealedTagBytes, '\0');
  unsigned char* iv = bytes_of(out);
  unsigned char* ciphertext = iv + kSealedIvBytes;
  // A random IV per seal: with 96 bits, one key seals billions of values before a repeat is
  // likely enough to matter, far more than a server ever seals.
  if (RAND_bytes(iv, kSealedIvBytes) != 1) return {};
  const CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0, tail = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()), iv) != 1 ||
      !add_associated_data(ctx.get(), associated_data) ||
      EVP_EncryptUpdate(ctx.get(), ciphertext, &len, bytes_of(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext + len, &tail) != 1 ||
      static_cast<std::size_t>(len + tail) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kSealedTagBytes,
                          ciphertext + plaintext.size()) != 1)
    return {};
  return out;
}

std::optional<std::string> SealedBox::open(std::string_view sealed,
                                           std::string_view associated_data) const {
  if (sealed.size() < kSealedOverheadBytes || sealed.size() > INT_MAX ||
      associated_data.size() > INT_MAX)
    return std::nullopt;
  const std::string_view iv = sealed.substr(0, kSealedIvBytes);
  const std::string_view ciphertext =
      sealed.substr(kSealedIvBytes, sealed.size() - kSealedOverheadBytes);
  std::string tag(sealed.substr(sealed.size() - kSealedTagBytes));
  std::string out(ciphertext.size(), '\0');
  const CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0, tail = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.data()), bytes_of(iv)) != 1 ||
      !add_associated_data(ctx.get(), associated_data) ||
      EVP_DecryptUpdate(ctx.get(), bytes_of(out), &len, bytes_of(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kSealedTagBytes, tag.data()) != 1 ||
      // The tag is checked here: nothing decrypted is returned unless it matches.
      EVP_DecryptFinal_ex(ctx.get(), bytes_of(out) + len, &tail) != 1)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(len + tail));
  return out;
}

}  // namespace waitroom::token
