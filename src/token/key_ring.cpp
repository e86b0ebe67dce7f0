#include "token/key_ring.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "token/atomic_file.hpp"
#include "token/jws.hpp"

namespace waitroom::token {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr mode_t kKeyFileMode = 0600;
constexpr std::string_view kManifestName = "keys.json";
constexpr std::string_view kLockName = "keys.lock";
constexpr std::size_t kMaxManifestBytes = 1024 * 1024;
constexpr std::size_t kMaxPemBytes = 64 * 1024;

std::size_t index_of(Algorithm alg) { return static_cast<std::size_t>(alg); }

std::filesystem::path pem_path(const std::filesystem::path& dir, std::string_view kid) {
  return dir / (std::string(kid) + ".pem");
}

auto internal(std::string detail) {
  return core::fail(core::ErrorCode::internal, std::move(detail));
}

auto no_key_of(Algorithm alg) {
  return internal("this key ring holds no " + std::string(algorithm_name(alg)) + " keys");
}

// An advisory lock on dir/keys.lock for the lifetime of the object: serializes the CLI and the
// server when both touch the key directory. Released by close() (also on crash).
class DirLock {
 public:
  static core::Result<DirLock> acquire(const std::filesystem::path& dir) {
    const std::filesystem::path file = dir / kLockName;
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kKeyFileMode);
    if (fd < 0) return internal("open " + file.string() + ": " + std::strerror(errno));
    DirLock lock(fd);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return internal("flock " + file.string() + ": " + std::strerror(errno));
    }
    return lock;
  }
  DirLock(DirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

core::Result<void> ensure_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  if (dir.has_parent_path()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return internal("create " + dir.parent_path().string() + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), kDirMode) != 0 && errno != EEXIST) {
    return internal("mkdir " + dir.string() + ": " + std::strerror(errno));
  }
  // mkdir honours the umask; the key directory must be exactly owner-only.
  if (::chmod(dir.c_str(), kDirMode) != 0) {
    return internal("chmod " + dir.string() + ": " + std::strerror(errno));
  }
  return {};
}

std::optional<std::int64_t> as_int64(const boost::json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.as_uint64());
  }
  return std::nullopt;
}

bool holds(std::span<const Algorithm> algorithms, Algorithm alg) {
  return std::ranges::find(algorithms, alg) != algorithms.end();
}

// Reads the manifest and every key file it names. A missing manifest is an empty key set; a key of
// an algorithm outside `algorithms` is an error (another ring's directory, or a mistake).
core::Result<std::vector<SigningKey>> read_keys(const std::filesystem::path& dir,
                                                std::span<const Algorithm> algorithms) {
  const std::filesystem::path manifest_path = dir / kManifestName;
  auto text = read_small_file(manifest_path, kMaxManifestBytes);
  if (!text) {
    if (text.error().code == core::ErrorCode::not_found) return std::vector<SigningKey>{};
    return std::unexpected(text.error());
  }
  const std::string where = manifest_path.string() + ": ";
  boost::system::error_code ec;
  const boost::json::value manifest = boost::json::parse(*text, ec);
  if (ec || !manifest.is_array()) return internal(where + "not a JSON array");

  std::vector<SigningKey> keys;
  for (const boost::json::value& entry_value : manifest.as_array()) {
    const auto* entry = entry_value.if_object();
    if (entry == nullptr) return internal(where + "entry is not an object");
    const auto* kid = entry->if_contains("kid");
    const auto* alg_name = entry->if_contains("alg");
    const auto* created = entry->if_contains("created_at");
    const auto* retired = entry->if_contains("retired_at");
    if (kid == nullptr || !kid->is_string() || !is_valid_kid(kid->as_string())) {
      return internal(where + "entry without a valid kid (32 lowercase hex)");
    }
    const std::string kid_text(kid->as_string());
    const auto alg = alg_name != nullptr && alg_name->is_string()
                         ? parse_algorithm(alg_name->as_string())
                         : std::nullopt;
    if (!alg) return internal(where + kid_text + ": alg must be ES256 or RS256");
    if (!holds(algorithms, *alg)) {
      return internal(where + kid_text + ": this key ring holds no " +
                      std::string(algorithm_name(*alg)) + " keys");
    }
    const auto created_at = created != nullptr ? as_int64(*created) : std::nullopt;
    if (!created_at) return internal(where + kid_text + ": created_at must be an integer");
    std::optional<std::int64_t> retired_at;
    if (retired != nullptr && !retired->is_null()) {
      retired_at = as_int64(*retired);
      if (!retired_at)
        return internal(where + kid_text + ": retired_at must be an integer or null");
    }
    if (std::ranges::any_of(keys, [&](const SigningKey& k) { return k.kid == kid_text; })) {
      return internal(where + kid_text + ": listed twice");
    }
    const auto pem = read_small_file(pem_path(dir, kid_text), kMaxPemBytes);
    if (!pem) return std::unexpected(pem.error());
    auto key = SigningKey::from_pem(*pem, kid_text, *alg, *created_at, retired_at);
    if (!key) return std::unexpected(key.error());
    keys.push_back(std::move(*key));
  }
  for (const Algorithm alg : kAllAlgorithms) {
    const auto active = std::ranges::count_if(
        keys, [&](const SigningKey& k) { return k.alg == alg && !k.retired_at_s; });
    if (active > 1) {
      return internal(where + "more than one active " + std::string(algorithm_name(alg)) + " key");
    }
  }
  return keys;
}

core::Result<void> write_manifest(const std::filesystem::path& dir,
                                  const std::vector<SigningKey>& keys) {
  boost::json::array manifest;
  for (const SigningKey& key : keys) {
    boost::json::object entry{
        {"kid", key.kid}, {"alg", algorithm_name(key.alg)}, {"created_at", key.created_at_s}};
    entry["retired_at"] =
        key.retired_at_s ? boost::json::value(*key.retired_at_s) : boost::json::value(nullptr);
    manifest.push_back(std::move(entry));
  }
  return write_file_atomically(dir / kManifestName, boost::json::serialize(manifest) + "\n",
                               kKeyFileMode);
}

// Generates and stores a key for `alg`; the caller writes the manifest afterwards.
core::Result<SigningKey> create_key(const std::filesystem::path& dir, Algorithm alg,
                                    std::int64_t now_s) {
  auto key = SigningKey::generate(alg, now_s);
  if (!key) return key;
  const auto pem = key->private_pem();
  if (!pem) return std::unexpected(pem.error());
  if (auto written = write_file_atomically(pem_path(dir, key->kid), *pem, kKeyFileMode); !written) {
    return std::unexpected(written.error());
  }
  return key;
}

// Adds an active key for every algorithm of the ring that has none. Returns whether anything was
// added.
core::Result<bool> add_missing_active_keys(const std::filesystem::path& dir,
                                           std::span<const Algorithm> algorithms,
                                           std::vector<SigningKey>& keys, std::int64_t now_s) {
  bool added = false;
  for (const Algorithm alg : algorithms) {
    const bool has_active = std::ranges::any_of(
        keys, [&](const SigningKey& k) { return k.alg == alg && !k.retired_at_s; });
    if (has_active) continue;
    auto key = create_key(dir, alg, now_s);
    if (!key) return std::unexpected(key.error());
    keys.push_back(std::move(*key));
    added = true;
  }
  return added;
}

}  // namespace

struct KeyRing::Snapshot {
  static constexpr std::size_t kNone = SIZE_MAX;  // an algorithm the ring does not hold

  std::vector<SigningKey> keys;                               // oldest first, as in the manifest
  std::array<std::size_t, std::size(kAllAlgorithms)> active;  // index into keys, per algorithm

  explicit Snapshot(std::vector<SigningKey> all) : keys(std::move(all)) {
    active.fill(kNone);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i].retired_at_s) active[index_of(keys[i].alg)] = i;
    }
  }

  const SigningKey* active_key(Algorithm alg) const {
    const std::size_t i = active[index_of(alg)];
    return i == kNone ? nullptr : &keys[i];
  }

  // Linear: a ring holds a handful of keys, and this beats hashing at that size.
  const SigningKey* find(std::string_view kid) const {
    for (const SigningKey& key : keys) {
      if (key.kid == kid) return &key;
    }
    return nullptr;
  }
};

KeyRing::KeyRing(std::filesystem::path dir, const core::Clock& clock,
                 std::span<const Algorithm> algorithms)
    : dir_(std::move(dir)), clock_(clock), algorithms_(algorithms.begin(), algorithms.end()) {}

KeyRing::~KeyRing() = default;

std::shared_ptr<const KeyRing::Snapshot> KeyRing::snapshot() const {
  return snapshot_.load(std::memory_order_acquire);
}

core::Result<std::shared_ptr<const KeyRing::Snapshot>> KeyRing::load_and_complete() {
  auto lock = DirLock::acquire(dir_);
  if (!lock) return std::unexpected(lock.error());
  auto keys = read_keys(dir_, algorithms_);
  if (!keys) return std::unexpected(keys.error());
  auto added = add_missing_active_keys(dir_, algorithms_, *keys, clock_.now_s());
  if (!added) return std::unexpected(added.error());
  if (*added) {
    if (auto written = write_manifest(dir_, *keys); !written)
      return std::unexpected(written.error());
  }
  return std::make_shared<const Snapshot>(std::move(*keys));
}

core::Result<std::unique_ptr<KeyRing>> KeyRing::open(const std::filesystem::path& dir,
                                                     const core::Clock& clock) {
  return open(dir, clock, kAllAlgorithms);
}

core::Result<std::unique_ptr<KeyRing>> KeyRing::open(const std::filesystem::path& dir,
                                                     const core::Clock& clock,
                                                     std::span<const Algorithm> algorithms) {
  if (algorithms.empty()) return internal("a key ring needs at least one algorithm");
  for (std::size_t i = 0; i < algorithms.size(); ++i) {
    if (holds(algorithms.subspan(i + 1), algorithms[i]))
      return internal("a key ring names " + std::string(algorithm_name(algorithms[i])) + " twice");
  }
  if (auto made = ensure_dir(dir); !made) return std::unexpected(made.error());
  std::unique_ptr<KeyRing> ring(new KeyRing(dir, clock, algorithms));
  std::lock_guard guard(ring->writer_mutex_);
  auto loaded = ring->load_and_complete();
  if (!loaded) return std::unexpected(loaded.error());
  ring->snapshot_.store(std::move(*loaded), std::memory_order_release);
  return ring;
}

core::Result<void> KeyRing::reload() {
  std::lock_guard guard(writer_mutex_);
  auto loaded = load_and_complete();
  if (!loaded) return std::unexpected(loaded.error());
  snapshot_.store(std::move(*loaded), std::memory_order_release);
  return {};
}

core::Result<std::vector<KeyInfo>> KeyRing::rotate(std::int64_t retain_s) {
  if (retain_s < 0) return core::fail(core::ErrorCode::bad_request, "retain_s must be >= 0");
  std::lock_guard guard(writer_mutex_);
  auto lock = DirLock::acquire(dir_);
  if (!lock) return std::unexpected(lock.error());
  // Start from the directory, not from memory: another process may have rotated since.
  auto keys = read_keys(dir_, algorithms_);
  if (!keys) return std::unexpected(keys.error());

  const std::int64_t now_s = clock_.now_s();
  for (SigningKey& key : *keys) {
    if (!key.retired_at_s) key.retired_at_s = now_s;
  }
  std::vector<std::string> pruned;
  std::erase_if(*keys, [&](const SigningKey& key) {
    const bool expired = *key.retired_at_s + retain_s < now_s;
    if (expired) pruned.push_back(key.kid);
    return expired;
  });
  // New key files first, then the manifest naming them, then the pruned files: a crash anywhere
  // leaves a manifest whose every key file exists.
  if (auto added = add_missing_active_keys(dir_, algorithms_, *keys, now_s); !added) {
    return std::unexpected(added.error());
  }
  if (auto written = write_manifest(dir_, *keys); !written) return std::unexpected(written.error());
  for (const std::string& kid : pruned) {
    std::error_code ec;
    std::filesystem::remove(pem_path(dir_, kid), ec);  // a leftover file is harmless
  }

  auto next = std::make_shared<const Snapshot>(std::move(*keys));
  snapshot_.store(next, std::memory_order_release);
  return list();
}

core::Result<std::string> KeyRing::sign(Algorithm alg, const boost::json::object& claims) const {
  const auto snap = snapshot();
  const SigningKey* key = snap->active_key(alg);
  if (key == nullptr) return no_key_of(alg);
  return sign_jwt(*key, claims);
}

core::Result<std::string> KeyRing::sign_with(std::string_view kid,
                                             const boost::json::object& claims) const {
  const auto snap = snapshot();
  const SigningKey* key = snap->find(kid);
  if (key == nullptr) return core::fail(core::ErrorCode::gone, "the signing key is no longer kept");
  return sign_jwt(*key, claims);
}

std::string KeyRing::active_kid(Algorithm alg) const {
  const auto snap = snapshot();
  const SigningKey* key = snap->active_key(alg);
  return key != nullptr ? key->kid : std::string();
}

core::Result<SigningKey> KeyRing::key(std::string_view kid) const {
  const auto snap = snapshot();
  const SigningKey* key = snap->find(kid);
  if (key == nullptr) return core::fail(core::ErrorCode::gone, "the signing key is no longer kept");
  return *key;
}

core::Result<SigningKey> KeyRing::active_key(Algorithm alg) const {
  const auto snap = snapshot();
  const SigningKey* key = snap->active_key(alg);
  if (key == nullptr) return no_key_of(alg);
  return *key;
}

core::Result<boost::json::object> KeyRing::verify(std::string_view jwt) const {
  auto token = parse_jwt(jwt);
  if (!token) return std::unexpected(token.error());
  const auto snap = snapshot();
  const SigningKey* key = snap->find(token->kid);
  if (key == nullptr) return core::fail(core::ErrorCode::unauthorized, "token kid is unknown");
  return verify_jwt(*token, *key);
}

std::vector<KeyInfo> KeyRing::list() const {
  const auto snap = snapshot();
  std::vector<KeyInfo> out;
  out.reserve(snap->keys.size());
  for (const SigningKey& key : snap->keys) {
    out.push_back({key.kid, key.alg, key.created_at_s, key.retired_at_s, !key.retired_at_s});
  }
  return out;
}

boost::json::object KeyRing::jwks() const {
  const auto snap = snapshot();
  boost::json::array keys;
  keys.reserve(snap->keys.size());
  for (const SigningKey& key : snap->keys) keys.push_back(key.public_jwk());
  return {{"keys", std::move(keys)}};
}

boost::json::object KeyRing::public_jwk(std::string_view kid) const {
  const auto snap = snapshot();
  const SigningKey* key = snap->find(kid);
  return key != nullptr ? key->public_jwk() : boost::json::object{};
}

}  // namespace waitroom::token
