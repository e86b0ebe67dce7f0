#pragma once
// Proof of work before a ticket (docs/security.md): the server hands out a challenge, the browser
// searches for a nonce such that SHA-256(challenge ":" nonce) starts with `bits` zero bits (about
// 2^bits hashes; the page's script does it), and the server checks it with one hash.
// Challenges are stateless: "1.<bits>.<expires_s>.<id>.<mac>", the MAC (HMAC-SHA256 under a key
// derived from the server's secret) covering the room too, so a challenge is good for one room,
// until it expires. Each may be spent once: SpentChallenges remembers ids until they expire.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.hpp"

namespace waitroom::token {

inline constexpr std::int64_t kChallengeLifetimeS = 300;
inline constexpr std::size_t kMaxNonceLength = 64;

struct PowChallenge {
  std::string text;
  unsigned bits = 0;
  std::int64_t expires_at_s = 0;
};

struct SolvedChallenge {
  std::string id;  // spend it once (SpentChallenges)
  std::int64_t expires_at_s = 0;
};

class ProofOfWork {
 public:
  explicit ProofOfWork(std::string_view server_secret);
  PowChallenge issue(std::string_view room, unsigned bits, std::int64_t now_s) const;
  // Whether `nonce` solves `challenge`, a challenge this server issued for `room` that has not
  // expired and asks for at least `min_bits`. Errors: forbidden, with the reason.
  core::Result<SolvedChallenge> verify(std::string_view room, std::string_view challenge,
                                       std::string_view nonce, unsigned min_bits,
                                       std::int64_t now_s) const;

 private:
  std::string mac(std::string_view room, std::string_view body) const;
  std::string key_;
};

// Leading zero bits of SHA-256(challenge ":" nonce): the work's measure, shared by tests.
unsigned pow_zero_bits(std::string_view challenge, std::string_view nonce);

// The ids of spent challenges until they expire; at most kMaxSpent at once (a solver that fast
// is asked to come back: refusing is the only answer that stays replay-proof).
class SpentChallenges {
 public:
  static constexpr std::size_t kMaxSpent = 1'000'000;
  // Succeeds the first time an id is spent; forbidden for a replay.
  core::Result<void> spend(const SolvedChallenge& solved, std::int64_t now_s);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> expires_at_s_;
  std::int64_t next_sweep_s_ = 0;
};

}  // namespace waitroom::token
