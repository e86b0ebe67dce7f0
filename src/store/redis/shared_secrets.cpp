#include "store/redis/shared_secrets.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>

#include "store/redis/redis_connection.hpp"
#include "token/atomic_file.hpp"
#include "token/base64url.hpp"
#include "token/key_ring.hpp"
#include "token/secret.hpp"
#include "token/web_push.hpp"

namespace waitroom::store::redis {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {
constexpr std::size_t kMaxKeyFile = 64 * 1024;
constexpr mode_t kPrivate = 0600;

// The key rings shared: the passes' signing keys, and Web Push's VAPID keys (a browser's
// subscription names the key it was made with, so every node must send with it).
constexpr const char* kKeyDirs[] = {"keys", "vapid"};

core::Result<json::object> pack_dir(const fs::path& dir) {
  json::object files;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    const std::string name = f.path().filename().string();
    if (!f.is_regular_file() || name == "keys.lock" || name.starts_with(".")) continue;
    auto bytes = token::read_small_file(f.path(), kMaxKeyFile);
    if (!bytes) return std::unexpected(bytes.error());
    files[name] = token::base64url_encode(*bytes);
  }
  if (ec) return fail(ErrorCode::internal, "cannot list " + dir.string() + ": " + ec.message());
  return files;
}

// The secret and every file of the key rings' directories but their locks, base64url in JSON.
core::Result<std::string> pack(const fs::path& data_dir) {
  auto secret = token::read_small_file(data_dir / "secret", token::kSecretBytes);
  if (!secret) return std::unexpected(secret.error());
  json::object blob{{"secret", token::base64url_encode(*secret)}};
  for (const char* dir : kKeyDirs) {
    auto files = pack_dir(data_dir / dir);
    if (!files) return std::unexpected(files.error());
    blob[dir] = std::move(*files);
  }
  return json::serialize(blob);
}

// One key ring's files as Redis has them: key files before the manifest that names them (as
// KeyRing writes them), stale ones removed after.
core::Result<void> unpack_dir(const fs::path& dir, const json::object& files) {
  std::vector<std::pair<std::string, std::string>> decoded;
  for (const auto& [name, content] : files) {
    const std::string n(name);
    if (!content.is_string() || n.empty() || n.find('/') != std::string::npos || n.starts_with("."))
      return fail(ErrorCode::internal, "a shared key file in Redis has a bad name");
    auto bytes = token::base64url_decode(content.as_string());
    if (!bytes) return fail(ErrorCode::internal, "a shared key file in Redis is not base64url");
    decoded.emplace_back(n, std::move(*bytes));
  }
  std::sort(decoded.begin(), decoded.end(), [](const auto& a, const auto& b) {
    return (a.first == "keys.json") < (b.first == "keys.json");
  });
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [name, bytes] : decoded)
    if (auto w = token::write_file_atomically(dir / name, bytes, kPrivate); !w) return w;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    const std::string name = f.path().filename().string();
    if (f.path().extension() == ".pem" && !files.contains(name)) fs::remove(f.path(), ec);
  }
  return {};
}

core::Result<void> unpack(const fs::path& data_dir, std::string_view blob) {
  json::error_code jec;
  json::value v = json::parse(blob, jec);
  if (jec || !v.is_object() || !v.as_object().contains("secret") ||
      !v.as_object().at("secret").is_string() || !v.as_object().contains("keys") ||
      !v.as_object().at("keys").is_object())
    return fail(ErrorCode::internal, "the shared secrets in Redis are not in the expected form");
  auto secret = token::base64url_decode(v.as_object().at("secret").as_string());
  if (!secret || secret->size() != token::kSecretBytes)
    return fail(ErrorCode::internal, "the shared secret in Redis has the wrong size");
  if (auto w = token::write_file_atomically(data_dir / "secret", *secret, kPrivate); !w) return w;
  for (const char* dir : kKeyDirs) {
    // Published by an older node: it had no VAPID keys, and this node's stay.
    const json::value* files = v.as_object().if_contains(dir);
    if (!files) continue;
    if (!files->is_object())
      return fail(ErrorCode::internal, "the shared secrets in Redis are not in the expected form");
    if (auto u = unpack_dir(data_dir / dir, files->as_object()); !u) return u;
  }
  return {};
}

// The shared blob with this node's VAPID keys added, when it has none (a node from before Web
// Push published it); nullopt when it has them already.
std::optional<std::string> with_vapid(std::string_view blob, const fs::path& data_dir) {
  json::error_code jec;
  json::value v = json::parse(blob, jec);
  if (jec || !v.is_object() || v.as_object().contains("vapid")) return std::nullopt;
  auto files = pack_dir(data_dir / "vapid");
  if (!files) return std::nullopt;
  v.as_object()["vapid"] = std::move(*files);
  return json::serialize(v);
}

// SET KEYS[1] ARGV[2] only while it still holds ARGV[1]; answers what it holds after.
constexpr const char* kCompareAndSet =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end "
    "return redis.call('GET', KEYS[1])";

// Runs one Redis conversation to its end on a private io_context.
template <class T, class F>
core::Result<T> converse(const RedisOptions& options, F body) {
  asio::io_context ctx;
  auto client = make_redis_client(ctx.get_executor(), options);
  RedisClient& redis = *client;
  std::optional<core::Result<T>> out;
  asio::co_spawn(ctx, body(redis), [&out](std::exception_ptr e, core::Result<T> r) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(r));
  });
  while (!out && ctx.run_one() > 0) {
  }
  redis.close();
  if (!out) return fail(ErrorCode::unavailable, "the conversation with Redis did not finish");
  return std::move(*out);
}
}  // namespace

core::Result<bool> share_secrets(const RedisOptions& options, const RedisKeys& keys,
                                 const fs::path& data_dir, const core::Clock& clock) {
  // This node's own secret and keys exist first: they are the shared ones if it is the first.
  if (auto s = token::load_or_create_secret(data_dir / "secret"); !s)
    return std::unexpected(s.error());
  if (auto ring = token::KeyRing::open(data_dir / "keys", clock); !ring)
    return std::unexpected(ring.error());
  if (auto ring = token::KeyRing::open(data_dir / "vapid", clock, token::kVapidAlgorithms); !ring)
    return std::unexpected(ring.error());
  auto mine = pack(data_dir);
  if (!mine) return std::unexpected(mine.error());
  const std::string key = keys.shared_secrets();
  auto shared = converse<std::string>(
      options, [&](RedisClient& redis) -> asio::awaitable<core::Result<std::string>> {
        std::vector<std::vector<std::string>> commands{{"SET", key, *mine, "NX"}, {"GET", key}};
        auto commands_op = redis.pipeline(std::move(commands));
        auto replies = co_await std::move(commands_op);
        if (!replies) co_return std::unexpected(replies.error());
        const Reply& got = replies->back();
        if (got.type != Reply::Type::string)
          co_return fail(ErrorCode::internal, "Redis: " + got.str);
        co_return got.str;
      });
  if (!shared) return std::unexpected(shared.error());
  // Published by a node from before Web Push: this node's VAPID keys join it, once (compare and
  // set), so that every node sends with the keys browsers subscribed with.
  if (auto merged = with_vapid(*shared, data_dir)) {
    auto cas = converse<std::string>(
        options, [&](RedisClient& redis) -> asio::awaitable<core::Result<std::string>> {
          std::vector<std::string> command{"EVAL", kCompareAndSet, "1", key, *shared, *merged};
          auto command_op = redis.command(std::move(command));
          auto reply = co_await std::move(command_op);
          if (!reply) co_return std::unexpected(reply.error());
          if (reply->type != Reply::Type::string)
            co_return fail(ErrorCode::internal, "Redis: " + reply->str);
          co_return reply->str;
        });
    if (!cas) return std::unexpected(cas.error());
    shared = std::move(cas);
  }
  if (*shared == *mine) return false;
  if (auto u = unpack(data_dir, *shared); !u) return std::unexpected(u.error());
  return true;
}

core::Result<void> publish_secrets(const RedisOptions& options, const RedisKeys& keys,
                                   const fs::path& data_dir) {
  auto mine = pack(data_dir);
  if (!mine) return std::unexpected(mine.error());
  const std::string key = keys.shared_secrets();
  auto done =
      converse<bool>(options, [&](RedisClient& redis) -> asio::awaitable<core::Result<bool>> {
        std::vector<std::string> command{"SET", key, *mine};
        auto command_op = redis.command(std::move(command));
        auto reply = co_await std::move(command_op);
        if (!reply) co_return std::unexpected(reply.error());
        if (reply->is_error()) co_return fail(ErrorCode::internal, "Redis: " + reply->str);
        co_return true;
      });
  if (!done) return std::unexpected(done.error());
  return {};
}

}  // namespace waitroom::store::redis
