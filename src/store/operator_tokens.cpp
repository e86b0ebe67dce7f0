#include "store/operator_tokens.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/hex.hpp"
#include "token/atomic_file.hpp"
#include "token/base64url.hpp"

namespace waitroom::store {

namespace json = boost::json;
using core::ErrorCode;

namespace {
constexpr std::string_view kPrefix = "wrt_";
constexpr std::size_t kIdHexDigits = 16;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kMaxFileBytes = 16 << 20;
std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}
}  // namespace

std::string_view role_name(OperatorRole role) {
  switch (role) {
    case OperatorRole::viewer:
      return "viewer";
    case OperatorRole::operator_:
      return "operator";
    case OperatorRole::admin:
      return "admin";
  }
  return "viewer";
}

std::optional<OperatorRole> parse_role(std::string_view name) {
  for (OperatorRole r : {OperatorRole::viewer, OperatorRole::operator_, OperatorRole::admin})
    if (role_name(r) == name) return r;
  return std::nullopt;
}

std::string a_role(OperatorRole role) {
  return (role == OperatorRole::viewer ? "a " : "an ") + std::string(role_name(role));
}

bool OperatorToken::may_use_room(std::string_view room) const {
  return rooms.empty() || std::find(rooms.begin(), rooms.end(), room) != rooms.end();
}

std::string encode_token(const OperatorToken& t) {
  json::array rooms;
  for (const auto& r : t.rooms) rooms.emplace_back(r);
  return json::serialize(json::object{{"id", t.id},
                                      {"name", t.name},
                                      {"role", role_name(t.role)},
                                      {"rooms", std::move(rooms)},
                                      {"created_at", t.created_at_s},
                                      {"expires_at", t.expires_at_s},
                                      {"revoked_at", t.revoked_at_s},
                                      {"last_used", t.last_used_s},
                                      {"secret_sha256", t.secret_sha256}});
}

core::Result<OperatorToken> decode_token(std::string_view text) {
  auto bad = [] {
    return core::fail(ErrorCode::internal, "an operator token record is malformed");
  };
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad();
  const json::object& o = v.as_object();
  OperatorToken t;
  try {
    t.id = json::value_to<std::string>(o.at("id"));
    t.name = json::value_to<std::string>(o.at("name"));
    auto role = parse_role(json::value_to<std::string>(o.at("role")));
    if (!role) return bad();
    t.role = *role;
    for (const auto& r : o.at("rooms").as_array())
      t.rooms.push_back(json::value_to<std::string>(r));
    t.created_at_s = o.at("created_at").to_number<std::int64_t>();
    t.expires_at_s = o.at("expires_at").to_number<std::int64_t>();
    t.revoked_at_s = o.at("revoked_at").to_number<std::int64_t>();
    // Not in the records written before tokens kept their last use.
    if (const json::value* used = o.if_contains("last_used"))
      t.last_used_s = used->to_number<std::int64_t>();
    t.secret_sha256 = json::value_to<std::string>(o.at("secret_sha256"));
  } catch (const std::exception&) {
    return bad();
  }
  return t;
}

NewTokenSecret new_token_secret() {
  const std::string id_bytes = random_bytes(kIdHexDigits / 2);
  NewTokenSecret s;
  s.id = core::lower_hex(id_bytes);
  s.secret = token::base64url_encode(random_bytes(kSecretBytes));
  s.text = std::string(kPrefix) + s.id + "_" + s.secret;
  return s;
}

std::optional<std::pair<std::string, std::string>> split_token(std::string_view text) {
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  if (text.size() <= kIdHexDigits + 1 || text[kIdHexDigits] != '_') return std::nullopt;
  const std::string_view id = text.substr(0, kIdHexDigits);
  if (!std::all_of(id.begin(), id.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return std::nullopt;
  return std::pair{std::string(id), std::string(text.substr(kIdHexDigits + 1))};
}

std::string secret_hash(std::string_view secret) { return core::sha256_hex(secret); }

core::Result<std::unique_ptr<OperatorTokenFile>> OperatorTokenFile::open(
    std::filesystem::path file) {
  std::unique_ptr<OperatorTokenFile> out(new OperatorTokenFile(std::move(file)));
  auto text = token::read_small_file(out->file_, kMaxFileBytes);
  if (!text) {
    if (text.error().code == ErrorCode::not_found) return out;
    return std::unexpected(text.error());
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.empty()) continue;
    auto t = decode_token(line);
    if (!t)
      return core::fail(ErrorCode::internal,
                        out->file_.string() + ": " + t.error().detail + ": " + std::string(line));
    out->tokens_[t->id] = std::move(*t);
  }
  return out;
}

core::Result<void> OperatorTokenFile::write(const std::map<std::string, OperatorToken>& tokens) {
  std::string text;
  for (const auto& [id, t] : tokens) text += encode_token(t) + "\n";
  return token::write_file_atomically(file_, text, 0600);
}

core::Result<void> OperatorTokenFile::used(const std::string& id, std::int64_t now_s) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end() || now_s - it->second.last_used_s < kLastUsedStepS) return {};
  auto tokens = tokens_;
  tokens[id].last_used_s = now_s;
  if (auto w = write(tokens); !w) return w;
  tokens_ = std::move(tokens);
  return {};
}

core::Result<void> OperatorTokenFile::put(const OperatorToken& token) {
  std::lock_guard lock(mu_);
  auto tokens = tokens_;
  tokens[token.id] = token;
  if (auto w = write(tokens); !w) return w;
  tokens_ = std::move(tokens);
  return {};
}

core::Result<std::optional<OperatorToken>> OperatorTokenFile::find(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return std::optional<OperatorToken>();
  return std::optional<OperatorToken>(it->second);
}

core::Result<std::vector<OperatorToken>> OperatorTokenFile::list() {
  std::lock_guard lock(mu_);
  std::vector<OperatorToken> out;
  for (const auto& [id, t] : tokens_) out.push_back(t);
  return out;
}

}  // namespace waitroom::store
