#include "web/sign_in_state.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/json.hpp>
#include <memory>

#include "token/base64url.hpp"
#include "token/hmac_sha256.hpp"

namespace waitroom::web {

namespace json = boost::json;

namespace {

constexpr std::string_view kKeyLabel = "waitroom sign-in state v1";
constexpr std::size_t kMaxSealedBytes = 4096;
constexpr std::size_t kIvBytes = 12;
constexpr std::size_t kTagBytes = 16;

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// AES-256-GCM: iv || ciphertext || tag, or the plaintext back (nullopt when the tag fails).
std::optional<std::string> gcm(const std::string& key, std::string_view in, bool encrypt) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
  unsigned char iv[kIvBytes];
  if (encrypt) {
    if (RAND_bytes(iv, sizeof iv) != 1) return std::nullopt;
  } else {
    if (in.size() < kIvBytes + kTagBytes) return std::nullopt;
    std::copy(in.begin(), in.begin() + kIvBytes, iv);
    in.remove_prefix(kIvBytes);
  }
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, iv, encrypt ? 1 : 0) != 1)
    return std::nullopt;
  std::string_view data = encrypt ? in : in.substr(0, in.size() - kTagBytes);
  std::string out(data.size(), '\0');
  int len = 0, tail = 0;
  if (!encrypt) {
    std::string tag(in.substr(in.size() - kTagBytes));
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1)
      return std::nullopt;
  }
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()),
                       static_cast<int>(data.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &tail) != 1)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(len + tail));
  if (!encrypt) return out;
  char tag[kTagBytes];
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) != 1)
    return std::nullopt;
  return std::string(reinterpret_cast<const char*>(iv), kIvBytes) + out +
         std::string(tag, kTagBytes);
}

std::optional<std::string> random_text(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return std::nullopt;
  return token::base64url_encode(raw);
}

std::string text_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::optional<SignInState> new_sign_in_state(std::string room, std::int64_t now_s) {
  auto state = random_text(16), nonce = random_text(16), verifier = random_text(32);
  if (!state || !nonce || !verifier) return std::nullopt;
  SignInState s;
  s.room = std::move(room);
  s.state = std::move(*state);
  s.nonce = std::move(*nonce);
  s.verifier = std::move(*verifier);  // 43 characters: the least RFC 7636 allows
  s.expires_at_s = now_s + kSignInStateLifetimeS;
  return s;
}

SignInStates::SignInStates(std::string_view server_secret)
    : key_(token::hmac_sha256(server_secret, kKeyLabel)) {}

std::string SignInStates::seal(const SignInState& s) const {
  const std::string text = json::serialize(json::object{{"room", s.room},
                                                        {"state", s.state},
                                                        {"nonce", s.nonce},
                                                        {"verifier", s.verifier},
                                                        {"return", s.return_url},
                                                        {"lang", s.lang},
                                                        {"party", s.party_size},
                                                        {"exp", s.expires_at_s}});
  return token::base64url_encode(gcm(key_, text, /*encrypt=*/true).value_or(""));
}

std::optional<SignInState> SignInStates::open(std::string_view sealed, std::string_view room,
                                              std::int64_t now_s) const {
  if (sealed.size() > kMaxSealedBytes) return std::nullopt;
  const auto bytes = token::base64url_decode(sealed);
  if (!bytes) return std::nullopt;
  const auto text = gcm(key_, *bytes, /*encrypt=*/false);
  if (!text) return std::nullopt;
  json::error_code ec;
  const json::value v = json::parse(*text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return std::nullopt;
  SignInState s;
  s.room = text_of(*o, "room");
  s.state = text_of(*o, "state");
  s.nonce = text_of(*o, "nonce");
  s.verifier = text_of(*o, "verifier");
  s.return_url = text_of(*o, "return");
  s.lang = text_of(*o, "lang");
  const auto* party = o->if_contains("party");
  const auto* exp = o->if_contains("exp");
  if (party == nullptr || !party->is_int64() || party->as_int64() < 1 || exp == nullptr ||
      !exp->is_int64())
    return std::nullopt;
  s.party_size = static_cast<std::uint64_t>(party->as_int64());
  s.expires_at_s = exp->as_int64();
  if (s.room != room || now_s >= s.expires_at_s || s.state.empty()) return std::nullopt;
  return s;
}

}  // namespace waitroom::web
