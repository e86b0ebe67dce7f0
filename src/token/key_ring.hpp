#pragma once
// The set of pass-signing keys: one active key per algorithm signs, retired keys stay to verify
// passes issued before a rotation until they can no longer be live, and all of them are published
// as JWKS. Keys live in one directory, so the CLI (`waitroom keys rotate`) and a running server
// share them; the server picks changes up with reload() (SIGHUP). A ring may hold fewer algorithms:
// Web Push's VAPID keys are a ring of ES256 keys only, in a directory of their own
// (token/web_push.hpp).
//
// On disk: dir/<kid>.pem (PKCS#8, 0600) and dir/keys.json, a JSON array of
// {"kid","alg","created_at","retired_at"|null}. Every file is replaced atomically; new key files
// are written before the manifest that names them and old ones deleted after, so a crash at any
// point leaves a manifest whose keys all exist. Writers (and reload) take an flock on dir/keys.lock
// so a CLI rotation and a server start never interleave.
#include <atomic>
#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "token/algorithm.hpp"
#include "token/signing_key.hpp"

namespace waitroom::token {

struct KeyInfo {
  std::string kid;
  Algorithm alg;
  std::int64_t created_at_s;
  std::optional<std::int64_t> retired_at_s;
  bool active;
};

// Thread-safe: sign, verify, list, jwks and public_jwk run concurrently from any threads while
// rotate or reload replace the key set. Readers take an immutable snapshot (one atomic
// shared_ptr load) and never wait on writers or on each other.
class KeyRing {
 public:
  // Creates `dir` (0700) if missing, loads the keys and generates (and persists) an active key
  // for each algorithm that has none, so a fresh directory gets one ES256 and one RS256 key.
  static core::Result<std::unique_ptr<KeyRing>> open(const std::filesystem::path& dir,
                                                     const core::Clock& clock);
  // The same for a ring of `algorithms` only (at least one, none twice): an active key for each,
  // and a directory listing a key of any other algorithm is an error.
  static core::Result<std::unique_ptr<KeyRing>> open(const std::filesystem::path& dir,
                                                     const core::Clock& clock,
                                                     std::span<const Algorithm> algorithms);

  // A compact JWS by the active key of `alg`, header {"alg","kid","typ":"JWT"}, payload the
  // serialized claims. An algorithm the ring does not hold is an internal error.
  core::Result<std::string> sign(Algorithm alg, const boost::json::object& claims) const;

  // Finds the key by the header's kid (missing or unknown kid is an error), verifies with that
  // key's algorithm (a header alg naming any other is an error) and returns the claims. Does NOT
  // check exp/nbf/aud: see check_time_claims in jws.hpp. Errors are ErrorCode::unauthorized.
  core::Result<boost::json::object> verify(std::string_view jwt) const;

  // Signs with one particular key, active or retired (e.g. a token that must carry the same kid
  // as an earlier one). A key no longer kept is `gone`.
  core::Result<std::string> sign_with(std::string_view kid,
                                      const boost::json::object& claims) const;
  // The kid new passes of `alg` are signed with; empty if the ring does not hold `alg`.
  std::string active_kid(Algorithm alg) const;

  // The key itself, for signing what is not a JWT of claims alone (a VAPID header: the push
  // service checks it against the public key a subscription was made with, so a subscription
  // names its key). Copies share the OpenSSL key. A key no longer kept is `gone`.
  core::Result<SigningKey> key(std::string_view kid) const;
  // The active key of `alg`: what new subscriptions are made with. An algorithm the ring does not
  // hold is an internal error.
  core::Result<SigningKey> active_key(Algorithm alg) const;

  // Generates a new active key per algorithm of the ring, retires the previous active keys at now,
  // deletes keys retired more than `retain_s` ago (retired_at + retain_s < now), persists, and
  // returns the new list. `retain_s` should be at least the longest pass lifetime.
  core::Result<std::vector<KeyInfo>> rotate(std::int64_t retain_s);

  // Re-reads the directory (after a CLI rotation). On error the current keys stay in use.
  core::Result<void> reload();

  // Oldest first.
  std::vector<KeyInfo> list() const;
  // {"keys":[...]}: the public JWK of every key, active and retired-but-kept.
  boost::json::object jwks() const;
  // The public JWK of `kid`, or an empty object if unknown.
  boost::json::object public_jwk(std::string_view kid) const;

  ~KeyRing();

 private:
  struct Snapshot;
  KeyRing(std::filesystem::path dir, const core::Clock& clock,
          std::span<const Algorithm> algorithms);
  std::shared_ptr<const Snapshot> snapshot() const;
  // Loads the directory and fills in missing active keys; caller holds writer_mutex_.
  core::Result<std::shared_ptr<const Snapshot>> load_and_complete();

  std::filesystem::path dir_;
  const core::Clock& clock_;
  const std::vector<Algorithm> algorithms_;  // what the ring holds, each with one active key
  std::mutex writer_mutex_;                  // one rotate/reload at a time within this process
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

}  // namespace waitroom::token
