#include "token/ticket_id.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

namespace waitroom::token {
namespace {

constexpr std::size_t kBodyBytes = 8;  // position (5) + epoch (3)
constexpr std::size_t kTagBytes = 8;
constexpr std::size_t kIdBytes = kBodyBytes + kTagBytes;
constexpr std::size_t kSha256Bytes = 32;
// Dash positions in the 8-4-4-4-12 text form.
constexpr std::array<std::size_t, 4> kDashAt = {8, 13, 18, 23};
// Keyed HMAC contexts kept ready; more threads than this fall back to a per-call dup.
constexpr std::size_t kSlotCount = 16;
constexpr std::uint64_t kFibonacciMultiplier = 0x9E3779B97F4A7C15;  // 2^64 / golden ratio

constexpr std::string_view kHexDigits = "0123456789abcdef";

// Lowercase hex only: an uppercase id is a different string and is rejected, so ids compare as
// plain strings everywhere (logs, caches, AWS clients).
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

[[noreturn]] void die(const char* what) {
  // OpenSSL without HMAC-SHA256 is a broken installation, not a runtime condition.
  std::fprintf(stderr, "waitroom: TicketIdCodec: %s\n", what);
  std::abort();
}

void free_mac_ctx(EVP_MAC_CTX* ctx) { EVP_MAC_CTX_free(ctx); }
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, decltype(&free_mac_ctx)>;

}  // namespace

// Why a pool of keyed contexts: measured on this box (OpenSSL 3.0.19, SHA-NI, 40-byte message),
// HMAC() one-shot costs 1060 ns (it fetches the algorithm and sets the key on every call),
// EVP_MAC_CTX_dup of a keyed context 460 ns, and re-initialising an already keyed context with
// EVP_MAC_init(ctx, NULL, 0, NULL) 200 ns. Whole decode: ~270 ns/op on one thread. Our code
// allocates nothing; OpenSSL 3.0 still makes 2 small mallocs per re-init (it dups the digest
// state). A context is not thread-safe, so each call borrows one from a small try-lock pool;
// threads start probing at a slot derived from their id so they rarely collide.
struct TicketIdCodec::Impl {
  struct alignas(64) Slot {
    std::atomic<bool> busy{false};
    EVP_MAC_CTX* ctx = nullptr;
  };

  MacCtxPtr keyed{nullptr, &free_mac_ctx};
  mutable std::array<Slot, kSlotCount> slots;  // borrowed by const calls, see tag()

  explicit Impl(const std::string& secret) {
    if (secret.empty()) die("empty secret");
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) die("HMAC unavailable");
    keyed.reset(EVP_MAC_CTX_new(mac));
    EVP_MAC_free(mac);  // the context holds its own reference
    if (!keyed) die("EVP_MAC_CTX_new failed");
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(keyed.get(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), params) != 1) {
      die("EVP_MAC_init failed");
    }
    for (Slot& slot : slots) {
      slot.ctx = EVP_MAC_CTX_dup(keyed.get());
      if (slot.ctx == nullptr) die("EVP_MAC_CTX_dup failed");
    }
  }

  ~Impl() {
    for (Slot& slot : slots) EVP_MAC_CTX_free(slot.ctx);
  }

  // tag = HMAC(secret, room || 0x00 || body)[0..8). False only if OpenSSL fails.
  bool tag(std::string_view room, const unsigned char* body, unsigned char* out) const {
    // libstdc++ hashes a thread id to its pthread_t, an address with many equal low bits across
    // threads; Fibonacci hashing spreads the high bits over the slots.
    const std::uint64_t id_hash = std::hash<std::thread::id>{}(std::this_thread::get_id());
    const std::size_t start = static_cast<std::size_t>((id_hash * kFibonacciMultiplier) >> 32);
    for (std::size_t i = 0; i < kSlotCount; ++i) {
      Slot& slot = slots[(start + i) % kSlotCount];
      if (slot.busy.exchange(true, std::memory_order_acquire)) continue;
      const bool ok =
          EVP_MAC_init(slot.ctx, nullptr, 0, nullptr) == 1 && compute(slot.ctx, room, body, out);
      slot.busy.store(false, std::memory_order_release);
      return ok;
    }
    MacCtxPtr ctx(EVP_MAC_CTX_dup(keyed.get()), &free_mac_ctx);
    return ctx && compute(ctx.get(), room, body, out);
  }

  static bool compute(EVP_MAC_CTX* ctx, std::string_view room, const unsigned char* body,
                      unsigned char* out) {
    const unsigned char separator = 0;  // room names cannot run into the body
    unsigned char mac[kSha256Bytes];
    std::size_t mac_len = 0;
    if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(room.data()), room.size()) !=
            1 ||
        EVP_MAC_update(ctx, &separator, 1) != 1 || EVP_MAC_update(ctx, body, kBodyBytes) != 1 ||
        EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) != 1 || mac_len != kSha256Bytes) {
      return false;
    }
    std::copy_n(mac, kTagBytes, out);
    return true;
  }
};

TicketIdCodec::TicketIdCodec(std::string secret)
    : impl_(std::make_unique<Impl>(secret)), resume_(secret) {
  OPENSSL_cleanse(secret.data(), secret.size());  // our copy of the key is no longer needed
}
TicketIdCodec::~TicketIdCodec() = default;
TicketIdCodec::TicketIdCodec(TicketIdCodec&&) noexcept = default;
TicketIdCodec& TicketIdCodec::operator=(TicketIdCodec&&) noexcept = default;

std::string TicketIdCodec::encode(std::string_view room, std::uint32_t epoch,
                                  std::uint64_t position) const {
  assert(position <= kMaxTicketPosition && epoch <= kMaxTicketEpoch);
  std::array<unsigned char, kIdBytes> bytes{};
  for (std::size_t i = 0; i < 5; ++i) {
    bytes[i] = static_cast<unsigned char>(position >> (8 * (4 - i)));
  }
  for (std::size_t i = 0; i < 3; ++i) {
    bytes[5 + i] = static_cast<unsigned char>(epoch >> (8 * (2 - i)));
  }
  if (!impl_->tag(room, bytes.data(), bytes.data() + kBodyBytes)) die("HMAC failed");

  std::string text;
  text.reserve(kTicketIdChars);
  for (std::size_t i = 0; i < kIdBytes; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(kHexDigits[bytes[i] >> 4]);
    text.push_back(kHexDigits[bytes[i] & 0xf]);
  }
  return text;
}

namespace {

// The id's 16 bytes from its text: nullopt unless 36 lowercase hex digits with dashes at
// 8-4-4-4-12.
std::optional<std::array<unsigned char, kIdBytes>> id_bytes(std::string_view id) {
  if (id.size() != kTicketIdChars) return std::nullopt;
  std::array<unsigned char, kIdBytes> bytes{};
  std::size_t nibble = 0;
  std::size_t next_dash = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (next_dash < kDashAt.size() && i == kDashAt[next_dash]) {
      if (id[i] != '-') return std::nullopt;
      ++next_dash;
      continue;
    }
    const int v = hex_value(id[i]);
    if (v < 0) return std::nullopt;
    bytes[nibble / 2] = static_cast<unsigned char>(bytes[nibble / 2] | (v << (nibble % 2 ? 0 : 4)));
    ++nibble;
  }
  return bytes;
}

TicketRef ref_of(const std::array<unsigned char, kIdBytes>& bytes) {
  TicketRef ref{0, 0};
  for (std::size_t i = 0; i < 5; ++i) ref.position = (ref.position << 8) | bytes[i];
  for (std::size_t i = 5; i < kBodyBytes; ++i) ref.epoch = (ref.epoch << 8) | bytes[i];
  return ref;
}

}  // namespace

std::optional<TicketRef> TicketIdCodec::decode(std::string_view room, std::string_view id) const {
  auto bytes = id_bytes(id);
  if (!bytes) return std::nullopt;
  unsigned char expected[kTagBytes];
  if (!impl_->tag(room, bytes->data(), expected)) return std::nullopt;
  if (CRYPTO_memcmp(expected, bytes->data() + kBodyBytes, kTagBytes) != 0) return std::nullopt;
  return ref_of(*bytes);
}

std::optional<TicketRef> TicketIdCodec::decode_untrusted(std::string_view id) {
  auto bytes = id_bytes(id);
  if (!bytes) return std::nullopt;
  return ref_of(*bytes);
}

}  // namespace waitroom::token
