#include "token/proof_of_work.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "token/base64url.hpp"
#include "token/constant_time.hpp"
#include "token/hmac_sha256.hpp"

namespace waitroom::token {

namespace {

constexpr std::string_view kKeyLabel = "waitroom proof of work v1";
constexpr std::size_t kIdBytes = 12;
constexpr std::size_t kMacBytes = 16;

bool is_nonce_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

ProofOfWork::ProofOfWork(std::string_view server_secret)
    : key_(hmac_sha256(server_secret, kKeyLabel)) {}

std::string ProofOfWork::mac(std::string_view room, std::string_view body) const {
  std::string data(room);
  data += '|';
  data += body;
  return base64url_encode(hmac_sha256(key_, data).substr(0, kMacBytes));
}

PowChallenge ProofOfWork::issue(std::string_view room, unsigned bits, std::int64_t now_s) const {
  unsigned char id[kIdBytes];
  if (RAND_bytes(id, sizeof id) != 1) std::abort();  // no randomness: nothing safe to hand out
  const std::int64_t expires = now_s + kChallengeLifetimeS;
  const std::string body =
      "1." + std::to_string(bits) + "." + std::to_string(expires) + "." +
      base64url_encode(std::string_view(reinterpret_cast<const char*>(id), sizeof id));
  return PowChallenge{body + "." + mac(room, body), bits, expires};
}

unsigned pow_zero_bits(std::string_view challenge, std::string_view nonce) {
  std::string input(challenge);
  input += ':';
  input += nonce;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned bits = 0;
  for (unsigned char byte : digest) {
    if (byte == 0) {
      bits += 8;
      continue;
    }
    for (unsigned char mask = 0x80; mask && !(byte & mask); mask >>= 1) ++bits;
    break;
  }
  return bits;
}

core::Result<SolvedChallenge> ProofOfWork::verify(std::string_view room, std::string_view challenge,
                                                  std::string_view nonce, unsigned min_bits,
                                                  std::int64_t now_s) const {
  using core::ErrorCode;
  if (challenge.empty() || nonce.empty())
    return core::fail(ErrorCode::forbidden,
                      "this room asks for proof of work: get a challenge from /v1/rooms/" +
                          std::string(room) + "/challenge and send pow_challenge and pow_nonce");
  std::vector<std::string_view> parts;
  for (std::string_view rest = challenge; parts.size() < 6;) {
    const auto dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  unsigned bits = 0;
  std::int64_t expires = 0;
  if (parts.size() != 5 || parts[0] != "1" || !parse_number(parts[1], bits) ||
      !parse_number(parts[2], expires))
    return core::fail(ErrorCode::forbidden, "pow_challenge is not a challenge of this server");
  const std::string_view body = challenge.substr(0, challenge.size() - parts[4].size() - 1);
  if (!constant_time_equal(mac(room, body), parts[4]))
    return core::fail(ErrorCode::forbidden,
                      "pow_challenge is not a challenge of this server for this room");
  if (expires <= now_s)
    return core::fail(ErrorCode::forbidden, "pow_challenge has expired: get a new one");
  if (bits < min_bits)
    return core::fail(ErrorCode::forbidden,
                      "pow_challenge is easier than this room asks now: get a new one");
  if (nonce.size() > kMaxNonceLength || !std::all_of(nonce.begin(), nonce.end(), is_nonce_char))
    return core::fail(ErrorCode::forbidden, "pow_nonce must be 1-64 letters, digits, '-' or '_'");
  if (pow_zero_bits(challenge, nonce) < bits)
    return core::fail(ErrorCode::forbidden, "pow_nonce does not solve the challenge");
  return SolvedChallenge{std::string(parts[3]), expires};
}

core::Result<void> SpentChallenges::spend(const SolvedChallenge& solved, std::int64_t now_s) {
  std::lock_guard lock(mu_);
  if (now_s >= next_sweep_s_) {
    std::erase_if(expires_at_s_, [now_s](const auto& e) { return e.second <= now_s; });
    next_sweep_s_ = now_s + 10;
  }
  if (expires_at_s_.size() >= kMaxSpent)
    return core::fail(core::ErrorCode::unavailable,
                      "too many challenges solved at once; try again shortly", 5);
  if (!expires_at_s_.emplace(solved.id, solved.expires_at_s).second)
    return core::fail(core::ErrorCode::forbidden, "this challenge was used already: get a new one");
  return {};
}

}  // namespace waitroom::token
