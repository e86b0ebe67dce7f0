#include "token/secret.hpp"

#include <openssl/rand.h>

#include "token/atomic_file.hpp"

namespace waitroom::token {
namespace {

constexpr mode_t kSecretFileMode = 0600;

core::Result<std::string> check_size(const std::filesystem::path& file, std::string bytes) {
  if (bytes.size() != kSecretBytes) {
    return core::fail(core::ErrorCode::internal,
                      file.string() + ": secret must be " + std::to_string(kSecretBytes) +
                          " bytes, found " + std::to_string(bytes.size()));
  }
  return bytes;
}

}  // namespace

core::Result<std::string> load_or_create_secret(const std::filesystem::path& file) {
  auto existing = read_small_file(file, kSecretBytes);
  if (existing) return check_size(file, std::move(*existing));
  if (existing.error().code != core::ErrorCode::not_found) return std::unexpected(existing.error());

  std::string secret(kSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    return core::fail(core::ErrorCode::internal, "RAND_bytes failed");
  }
  auto written = write_file_atomically(file, secret, kSecretFileMode, IfExists::keep);
  if (written) return secret;
  if (written.error().code != core::ErrorCode::conflict) return std::unexpected(written.error());
  // Another process created it first: everyone must use that one secret.
  auto stored = read_small_file(file, kSecretBytes);
  if (!stored) return std::unexpected(stored.error());
  return check_size(file, std::move(*stored));
}

}  // namespace waitroom::token
