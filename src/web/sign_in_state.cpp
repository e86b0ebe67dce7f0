#include "web/sign_in_state.hpp"

#include <openssl/rand.h>

#include <boost/json.hpp>

#include "token/base64url.hpp"
#include "token/sealed_box.hpp"

namespace waitroom::web {

namespace json = boost::json;

namespace {

constexpr std::string_view kKeyLabel = "waitroom sign-in state v1";
constexpr std::size_t kMaxSealedBytes = 4096;

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

SignInStates::SignInStates(std::string_view server_secret) : box_(server_secret, kKeyLabel) {}

std::string SignInStates::seal(const SignInState& s) const {
  const std::string text = json::serialize(json::object{{"room", s.room},
                                                        {"state", s.state},
                                                        {"nonce", s.nonce},
                                                        {"verifier", s.verifier},
                                                        {"return", s.return_url},
                                                        {"lang", s.lang},
                                                        {"party", s.party_size},
                                                        {"exp", s.expires_at_s}});
  return token::base64url_encode(box_.seal(text));
}

std::optional<SignInState> SignInStates::open(std::string_view sealed, std::string_view room,
                                              std::int64_t now_s) const {
  if (sealed.size() > kMaxSealedBytes) return std::nullopt;
  const auto bytes = token::base64url_decode(sealed);
  if (!bytes) return std::nullopt;
  const auto text = box_.open(*bytes);
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
