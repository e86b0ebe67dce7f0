#pragma once
// waitroom::verify — check Waitroom passes inside a C++ application.
//
// A visitor that Waitroom admits carries a pass: a JWT signed (ES256 or RS256) by one of the keys
// the Waitroom server publishes at GET /.well-known/jwks.json. A Verifier loads that key set (from
// the URL or from a file), keeps it fresh, and answers "is this pass good for my room?":
//
//   std::string error;
//   auto verifier = waitroom::verify::Verifier::create(
//       {.jwks = "https://queue.example/.well-known/jwks.json"}, &error);   // C++20 designated
//   if (!verifier) die(error);
//   waitroom::verify::Expectation expect;
//   expect.audience = "launch";           // the room (the pass's aud)
//   expect.issuer = "waitroom";           // the room's issuer setting (the pass's iss)
//   auto result = verifier->verify(pass, expect);
//   if (result) serve(result.claims->ticket); else refuse(result.message);
//
// Guarantees:
//  - The algorithm comes from the key in the JWKS, never from the pass's header: "alg":"none",
//    HS256 (e.g. HMAC keyed with the public key) and a header naming another algorithm than its
//    key are always refused.
//  - Passes longer than kMaxPassBytes are refused before any parsing.
//  - A pass whose signature checked out is cached (keyed by the whole pass, bounded size, kept
//    until the pass expires), so checking it again is a hash lookup plus a few comparisons. The
//    claims are re-checked against the Expectation and the clock on every call.
//  - Keys are re-fetched every Options::refresh_interval, and at once (at most every
//    Options::min_refresh_interval) when a pass names a kid the verifier does not know, so a key
//    rotation on the server needs nothing from the application. A failed fetch keeps the last
//    good key set. When a refresh removes or changes a key, the cache is emptied.
//  - Thread-safe: any number of threads may call verify() while a refresh runs; verify() never
//    waits for the network except to look up an unknown kid (rate-limited as above).
//
// This header needs C++17 and nothing else; link with -lwaitroom_verify (pkg-config
// waitroom_verify).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#if defined(_WIN32)
#define WAITROOM_VERIFY_API
#else
#define WAITROOM_VERIFY_API __attribute__((visibility("default")))
#endif

#define WAITROOM_VERIFY_VERSION "0.2.0"

namespace waitroom::verify {

// Passes are a few hundred bytes; anything longer is refused unread.
inline constexpr std::size_t kMaxPassBytes = 8 * 1024;
// Expectation::leeway is clamped to [0, kMaxLeeway].
inline constexpr std::chrono::seconds kMaxLeeway{60};

// The JWS algorithms a pass may be signed with. There is deliberately no HS256 and no "none".
enum class Algorithm : std::uint8_t {
  ES256,  // ECDSA P-256 + SHA-256 (Waitroom's default)
  RS256,  // RSASSA-PKCS1-v1_5 + SHA-256 (AWS-compatible rooms)
};

enum class ErrorCode : std::uint8_t {
  ok = 0,
  malformed,              // not a JWS, bad base64url/JSON, or a required claim missing/mistyped
  bad_signature,          // the signature does not verify with the kid's key
  unknown_kid,            // no key with the pass's kid, even after a refresh
  expired,                // exp <= now - leeway
  not_yet_valid,          // nbf > now + leeway
  wrong_audience,         // aud is not Expectation::audience
  wrong_issuer,           // iss is not Expectation::issuer
  algorithm_not_allowed,  // unsigned, HS*, header alg != key alg, or not in Expectation
  too_large,              // more than kMaxPassBytes
  wrong_token_use,        // token_use present and not "access" (not a pass, e.g. an ID token)
};

// "ok", "malformed", "bad_signature", ... (the enumerator's name).
WAITROOM_VERIFY_API std::string_view to_string(ErrorCode code) noexcept;
// "ES256" or "RS256".
WAITROOM_VERIFY_API std::string_view to_string(Algorithm algorithm) noexcept;

// What a valid pass says. Times are Unix seconds.
struct Claims {
  std::string ticket;                      // sub: the visitor's ticket id
  std::string room;                        // aud: the room (audience) the pass is for
  std::string issuer;                      // iss
  std::uint64_t queue_position = 0;        // queue_position (0 if absent)
  std::int64_t exp = 0;                    // expiry (always present)
  std::int64_t iat = 0;                    // issued at (0 if absent)
  std::int64_t nbf = 0;                    // not before (0 if absent)
  std::string jti;                         // the pass's unique id ("" if absent)
  std::string token_use;                   // "access" for passes ("" if absent)
  std::string kid;                         // the key that signed it
  Algorithm algorithm = Algorithm::ES256;  // that key's algorithm
  std::uint64_t party_size = 1;            // party_size: the seats the pass lets in (1 if absent)
};

// What the application requires of a pass. Both strings must match exactly; an empty one matches
// nothing, so a missing setting fails closed.
struct Expectation {
  std::string audience;  // the room: Waitroom's room "audience" setting, by default its name
  std::string issuer;    // the room's "issuer" setting ("waitroom" by default)
  std::vector<Algorithm> algorithms{Algorithm::ES256, Algorithm::RS256};
  std::chrono::seconds leeway{30};  // tolerated clock difference for exp and nbf, 0..60 s
};

struct Result {
  ErrorCode code = ErrorCode::malformed;
  std::string message;                   // why, for logs (never contains the pass); "" when ok
  std::shared_ptr<const Claims> claims;  // set exactly when code == ErrorCode::ok

  bool ok() const noexcept { return code == ErrorCode::ok; }
  explicit operator bool() const noexcept { return ok(); }
};

struct Options {
  // Where the keys are: "https://host/.well-known/jwks.json", "http://127.0.0.1:8080/...", a
  // file path, or "file:///path". URLs are fetched with HTTP/1.1 GET; https verifies the server's
  // certificate and name (SNI is sent) against the system CAs or ca_file. Redirects are not
  // followed.
  std::string jwks;
  // Re-fetch the keys this often (0: never on a schedule). After a failed fetch the next try
  // comes after min_refresh_interval instead.
  std::chrono::seconds refresh_interval{300};
  // A pass with an unknown kid triggers a fetch, but at most once per this interval.
  std::chrono::seconds min_refresh_interval{30};
  // The whole fetch (lookup, connect, TLS, request, response) must finish within this.
  std::chrono::milliseconds fetch_timeout{5000};
  // https: a PEM file of CA certificates to trust instead of the system's.
  std::string ca_file;
  // Verified passes kept (0: no cache). An entry takes about 1 KB (the pass and its claims).
  std::size_t cache_capacity = 10000;
  // create() fails when the first load fails. When false, create() succeeds with no keys and
  // keeps trying (every min_refresh_interval, and on each unknown kid).
  bool require_keys_at_start = true;
  // Wall-clock time in Unix seconds, for exp/nbf checks (tests). Empty: the system clock.
  std::function<std::int64_t()> now_s;
};

struct Stats {
  std::uint64_t cache_hits = 0;        // verify() answered from the cache
  std::uint64_t signature_checks = 0;  // signatures actually verified (cache misses)
  std::uint64_t jwks_loads = 0;        // successful key set loads, the first one included
  std::uint64_t jwks_load_failures = 0;
  std::size_t keys = 0;           // keys in the current key set
  std::size_t cache_entries = 0;  // passes in the cache now
  std::string last_error;         // why the last failed load failed ("" if none failed yet)
};

class WAITROOM_VERIFY_API Verifier {
 public:
  // Loads the key set once and starts the refresh thread. On failure returns null and, if
  // `error` is given, says why (bad URL, unreachable, HTTP status, no usable key...).
  static std::unique_ptr<Verifier> create(Options options, std::string* error = nullptr);

  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  // Stops the refresh thread (waits for a fetch in progress, at most fetch_timeout).
  ~Verifier();

  // Checks, in order: size, structure, algorithm, kid, signature, claims (token_use, iss, aud,
  // exp, nbf). Never throws for a bad pass.
  Result verify(std::string_view pass, const Expectation& expect) const;

  // Fetches the key set now, ignoring the rate limit. On failure the current keys stay in use.
  bool refresh(std::string* error = nullptr);

  Stats stats() const;

 private:
  struct Impl;
  explicit Verifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace waitroom::verify
