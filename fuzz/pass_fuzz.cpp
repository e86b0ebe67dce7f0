// Fuzzes pass parsing and verification, the text every gate check reads from a visitor's cookie
// or header: the server's JWS code (src/token/jws.cpp: parse_jwt, verify_jwt, check_time_claims)
// and the installable verifier (include/waitroom/verify.hpp) over the same input. The key is a
// fixed test key (fuzz/test_keys/), so the seed corpus holds validly signed passes to mutate from.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "token/jws.hpp"
#include "token/signing_key.hpp"
#include "waitroom/verify.hpp"

namespace {

// The seeds' clock: every seed pass is issued at this time (fuzz/corpus/pass/).
constexpr std::int64_t kSeedNowS = 1'700'000'000;
constexpr std::int64_t kLeewayS = 30;

// A broken set-up must say why, not look like a finding.
[[noreturn]] void fail(const std::string& why) {
  std::cerr << "pass_fuzz: " << why << "\n";
  std::abort();
}

std::string read_data_file(const char* name) {
  const std::string path = std::string(WAITROOM_FUZZ_DATA_DIR) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const waitroom::token::SigningKey& server_key() {
  static const waitroom::token::SigningKey key = [] {
    auto k = waitroom::token::SigningKey::from_pem(read_data_file("pass_es256.pem"), "fuzz-es256",
                                                   waitroom::token::Algorithm::ES256, kSeedNowS,
                                                   std::nullopt);
    if (!k) fail("test key: " + k.error().detail);
    return std::move(*k);
  }();
  return key;
}

const waitroom::verify::Verifier& library_verifier() {
  static const std::unique_ptr<waitroom::verify::Verifier> verifier = [] {
    waitroom::verify::Options options;
    options.jwks = std::string(WAITROOM_FUZZ_DATA_DIR) + "/pass_jwks.json";
    options.refresh_interval = std::chrono::seconds(0);  // no background fetches while fuzzing
    options.cache_capacity = 64;                         // small, so eviction runs too
    options.now_s = [] { return kSeedNowS; };
    std::string error;
    auto v = waitroom::verify::Verifier::create(std::move(options), &error);
    if (!v) fail("verifier: " + error);
    return v;
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view pass(reinterpret_cast<const char*>(data), size);

  bool server_accepts = false;
  if (auto parsed = waitroom::token::parse_jwt(pass); parsed && parsed->kid == server_key().kid) {
    if (auto claims = waitroom::token::verify_jwt(*parsed, server_key()))
      server_accepts = waitroom::token::check_time_claims(*claims, kSeedNowS, kLeewayS).has_value();
  }

  waitroom::verify::Expectation expect;
  expect.audience = "shop";
  expect.issuer = "waitroom";
  expect.leeway = std::chrono::seconds(kLeewayS);
  const auto result = library_verifier().verify(pass, expect);
  if (result.ok() != (result.claims != nullptr)) __builtin_trap();
  // Both check the same signature over the same key: a pass the library accepts, the server's
  // own code must accept too (the library checks more claims, so not the other way round).
  if (result.ok() && !server_accepts) __builtin_trap();
  return 0;
}
