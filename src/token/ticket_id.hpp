#pragma once
// A visitor's ticket id carries its room epoch and position under an HMAC (DESIGN.md section 4):
// a status poll checks the tag and reads the position straight out of the id, with no
// id -> position table and no store lookup. The position is readable by whoever holds the id
// (it is shown to the visitor anyway); it cannot be forged or moved to another room or epoch.
//
// Layout (16 bytes): position (5 bytes big-endian) | epoch (3 bytes big-endian) |
//                    tag = HMAC-SHA256(secret, room || 0x00 || first 8 bytes)[0..8)
// Text: lowercase hex shaped like a UUID, 8-4-4-4-12, so AWS-style request-id regexes accept it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "token/resume_token.hpp"

namespace waitroom::token {

inline constexpr std::uint64_t kMaxTicketPosition = (std::uint64_t{1} << 40) - 1;
inline constexpr std::uint32_t kMaxTicketEpoch = (std::uint32_t{1} << 24) - 1;
inline constexpr std::size_t kTicketIdChars = 36;

struct TicketRef {
  std::uint64_t position;
  std::uint32_t epoch;
  friend bool operator==(const TicketRef&, const TicketRef&) = default;
};

// Thread-safe: encode and decode may run concurrently on one codec from any number of threads.
class TicketIdCodec {
 public:
  // `secret` should be load_or_create_secret()'s 32 bytes; it must not be empty.
  explicit TicketIdCodec(std::string secret);
  ~TicketIdCodec();
  TicketIdCodec(TicketIdCodec&&) noexcept;
  TicketIdCodec& operator=(TicketIdCodec&&) noexcept;

  // Precondition: position <= kMaxTicketPosition and epoch <= kMaxTicketEpoch (higher bits are
  // dropped). The id is 36 characters.
  std::string encode(std::string_view room, std::uint32_t epoch, std::uint64_t position) const;

  // nullopt for anything that is not an id this codec issued for `room`: wrong length, uppercase,
  // misplaced dashes, bad tag, another room. Our code allocates nothing (OpenSSL 3.0
  // still makes 2 small mallocs per HMAC, see ticket_id.cpp).
  std::optional<TicketRef> decode(std::string_view room, std::string_view id) const;

  // The position and epoch written in a well-formed id, without checking its tag: only for a
  // caller that authenticates the id otherwise. The gate does: the id comes from a pass that must
  // equal, byte for byte, the pass the store issued at that position, which no forger can make.
  // It saves the HMAC on every request a protected site makes.
  static std::optional<TicketRef> decode_untrusted(std::string_view id);

  // The resume links' tokens under the same secret (token/resume_token.hpp): what a room's events
  // carry so that an operator's own channel (SMS) can send the visitor back to the place.
  const ResumeTokens& resume_tokens() const { return resume_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ResumeTokens resume_;
};

}  // namespace waitroom::token
