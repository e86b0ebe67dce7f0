#include "ops/webhook_config.hpp"

#include <cctype>
#include <fstream>
#include <limits>
#include <optional>

namespace waitroom::ops {

namespace {

using core::ErrorCode;

// A secret is a line or two; anything bigger is the wrong file.
constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;
constexpr std::int64_t kMaxQueueLimit = 10'000'000;

std::unexpected<core::Error> bad(const std::string& key, const std::string& why) {
  return core::fail(ErrorCode::bad_request, "config: " + key + ": " + why);
}

core::Result<std::string> read_secret_file(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad(key, "cannot read " + path);
  std::string secret;
  secret.resize(kMaxSecretFileBytes + 1);
  in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
  secret.resize(static_cast<std::size_t>(in.gcount()));
  if (secret.size() > kMaxSecretFileBytes) return bad(key, path + " is larger than 64 KiB");
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())))
    secret.pop_back();
  if (secret.empty()) return bad(key, path + " is empty");
  return secret;
}

std::optional<std::int64_t> integer_in(const toml::node& node, std::int64_t min, std::int64_t max) {
  auto v = node.as_integer();
  if (!v || v->get() < min || v->get() > max) return std::nullopt;
  return v->get();
}

core::Result<WebhookConfig> parse_one(const toml::table& table, const std::string& prefix) {
  WebhookConfig config;
  std::optional<std::string> secret_file;
  bool has_secret = false;
  for (const auto& [k, v] : table) {
    const std::string name(k.str());
    const std::string key = prefix + name;
    if (name == "url" || name == "secret" || name == "secret_file" || name == "ca_file") {
      auto s = v.value_exact<std::string>();
      if (!s) return bad(key, "must be a string");
      if (name == "url")
        config.url = *s;
      else if (name == "secret") {
        config.secret = *s;
        has_secret = true;
      } else if (name == "secret_file")
        secret_file = *s;
      else
        config.ca_file = *s;
    } else if (name == "types") {
      const toml::array* types = v.as_array();
      if (!types) return bad(key, "must be an array of event type strings");
      for (const auto& t : *types) {
        auto s = t.value_exact<std::string>();
        if (!s || s->empty()) return bad(key, "must be an array of non-empty strings");
        config.types.push_back(*s);
      }
    } else if (name == "max_queue") {
      auto n = integer_in(v, 1, kMaxQueueLimit);
      if (!n) return bad(key, "must be an integer from 1 to " + std::to_string(kMaxQueueLimit));
      config.max_queue = static_cast<std::size_t>(*n);
    } else if (name == "timeout_ms") {
      // The upper bound is check_webhook_config's; it reports it in its own words below.
      auto n = integer_in(v, 1, std::numeric_limits<std::int64_t>::max());
      if (!n) return bad(key, "must be a positive integer");
      config.timeout_ms = *n;
    } else {
      return bad(key, "unknown key");
    }
  }
  if (config.url.empty()) return bad(prefix + "url", "is required");
  if (has_secret && secret_file)
    return bad(prefix + "secret", "set secret or secret_file, not both");
  if (secret_file) {
    auto secret = read_secret_file(prefix + "secret_file", *secret_file);
    if (!secret) return std::unexpected(secret.error());
    config.secret = std::move(*secret);
  } else if (config.secret.empty()) {
    return bad(prefix + "secret", "is required (or secret_file)");
  }
  // The same checks WebhookSink::create makes, so a bad URL is reported at load with its key.
  // Its messages start with the field ("url: ..."), so the prefix completes the key.
  if (auto ok = check_webhook_config(config); !ok)
    return core::fail(ErrorCode::bad_request, "config: " + prefix + ok.error().detail);
  return config;
}

}  // namespace

core::Result<std::vector<WebhookConfig>> parse_webhooks(const toml::array* webhooks) {
  std::vector<WebhookConfig> out;
  if (webhooks == nullptr) return out;
  for (std::size_t i = 0; i < webhooks->size(); ++i) {
    const std::string prefix = "webhooks[" + std::to_string(i) + "].";
    const toml::table* table = (*webhooks)[i].as_table();
    if (!table) return bad("webhooks[" + std::to_string(i) + "]", "must be a table ([[webhooks]])");
    auto config = parse_one(*table, prefix);
    if (!config) return std::unexpected(config.error());
    out.push_back(std::move(*config));
  }
  return out;
}

}  // namespace waitroom::ops
