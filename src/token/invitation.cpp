#include "token/invitation.hpp"

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "core/ip_network.hpp"
#include "token/constant_time.hpp"
#include "token/hmac_sha256.hpp"
#include "token/jws.hpp"
#include "token/public_key.hpp"
#include "token/quoted.hpp"

namespace waitroom::token {
namespace {

constexpr std::string_view kHs256 = "HS256";
constexpr std::size_t kMaxQuotedChars = 64;
constexpr std::size_t kMaxCachedPublicKeys = 256;

auto refuse(std::string detail) {
  return core::fail(core::ErrorCode::unauthorized, "invitation " + std::move(detail));
}

std::string quoted(std::string_view text) { return token::quoted(text, kMaxQuotedChars); }

// Parsed public keys by (alg, PEM), shared by every room: parsing a PEM costs several times a
// signature check, and every join with an invitation would pay it. Rooms' keys change rarely, so
// emptying it when full only costs a few parses again.
class PublicKeyCache {
 public:
  PublicKeyResult get(std::string_view pem, Algorithm alg) {
    auto& keys = by_alg_[static_cast<std::size_t>(alg)];
    {
      const std::lock_guard lock(mutex_);
      if (const auto it = keys.find(pem); it != keys.end()) return it->second;
    }
    auto key = public_key_from_pem(pem, alg);  // outside the lock: other joins go on meanwhile
    if (!key) return key;
    const std::lock_guard lock(mutex_);
    if (size_ >= kMaxCachedPublicKeys) {
      for (auto& map : by_alg_) map.clear();
      size_ = 0;
    }
    if (keys.emplace(pem, *key).second) ++size_;
    return key;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<EVP_PKEY>, std::less<>> by_alg_[std::size(kAllAlgorithms)];
  std::size_t size_ = 0;
};

PublicKeyCache& public_key_cache() {
  // Never destroyed: its keys must not be freed after OpenSSL's own cleanup at exit.
  static auto* const cache = new PublicKeyCache;
  return *cache;
}

// Whether the signature is `key`'s. The algorithm is the key's; the token's header was compared
// with it before, and chooses nothing.
core::Result<void> check_signature(const UnverifiedJwt& token, const core::InvitationKey& key,
                                   std::string_view room) {
  const auto cannot_check = [&](std::string why) {
    return refuse("key " + quoted(key.kid) + " of room " + quoted(room) +
                  " cannot check signatures: " + why);
  };
  if (key.alg == kHs256) {
    // core::validate refuses such settings; an HMAC keyed with "" is anyone's to make.
    if (key.secret.size() < core::kMinInvitationSecretBytes)
      return cannot_check("its secret is too short");
    if (!constant_time_equal(hmac_sha256(key.secret, token.signing_input), token.signature))
      return refuse("signature does not verify with key " + quoted(key.kid));
    return {};
  }
  const auto alg = parse_algorithm(key.alg);
  if (!alg) return cannot_check("its alg is not ES256, RS256 or HS256");
  const auto pkey = public_key_cache().get(key.public_key, *alg);
  if (!pkey) return cannot_check(pkey.error());
  if (!verify_signature(pkey->get(), *alg, token.signing_input, token.signature))
    return refuse("signature does not verify with key " + quoted(key.kid));
  return {};
}

// Whether the signature is that of the key the header's kid names: the room's own first, then its
// JWKS's. The key decides the algorithm: "none", or HS256 keyed with a public key, fail here.
core::Result<void> check_signature(const UnverifiedJwt& token,
                                   const core::InvitationSettings& invitations, const JwkSet* jwks,
                                   std::string_view room) {
  if (const core::InvitationKey* key = invitations.find(token.kid)) {
    if (token.alg != key->alg) {
      return refuse("header names alg " + quoted(token.alg) + " but key " + quoted(key->kid) +
                    " is " + key->alg);
    }
    return check_signature(token, *key, room);
  }
  if (const JwkKey* published = jwks != nullptr ? jwks->find(token.kid) : nullptr) {
    if (token.alg != algorithm_name(published->alg)) {
      return refuse("header names alg " + quoted(token.alg) + " but key " + quoted(published->kid) +
                    " of the room's JWKS is " + std::string(algorithm_name(published->alg)));
    }
    if (!verify_signature(published->pkey.get(), published->alg, token.signing_input,
                          token.signature))
      return refuse("signature does not verify with key " + quoted(published->kid));
    return {};
  }
  if (!invitations.jwks_url.empty()) {
    return refuse("is signed with key " + quoted(token.kid) +
                  ", which neither the room nor its JWKS has");
  }
  return refuse("names kid " + quoted(token.kid) + ", but no key " + quoted(token.kid) +
                " is registered in room " + quoted(room));
}

core::Result<std::int64_t> time_claim(const boost::json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  const auto date = value != nullptr ? numeric_date(*value) : std::nullopt;
  if (!date) return refuse(std::string(name) + " is not a number (seconds since 1970)");
  return *date;
}

// exp present, not past, at most kMaxInvitationLifetimeS ahead (a used jti is remembered until
// exp); nbf and iat, when present, not in the future. Each within the clocks' leeway.
core::Result<std::int64_t> check_times(const boost::json::object& claims, std::int64_t now_s) {
  if (!claims.contains("exp")) return refuse("has no exp");
  const auto exp = time_claim(claims, "exp");
  if (!exp) return exp;
  const std::string now = " (now " + std::to_string(now_s) + ")";
  // Compared with now moved, not exp, so that a huge exp from the token cannot overflow.
  if (*exp <= now_s - kInvitationLeewayS) return refuse("expired at " + std::to_string(*exp) + now);
  if (*exp > now_s + core::kMaxInvitationLifetimeS + kInvitationLeewayS) {
    return refuse("exp " + std::to_string(*exp) + " is more than " +
                  std::to_string(core::kMaxInvitationLifetimeS) + " s ahead" + now);
  }
  for (const std::string_view name : {"nbf", "iat"}) {
    if (!claims.contains(name)) continue;
    const auto date = time_claim(claims, name);
    if (!date) return std::unexpected(date.error());
    if (*date > now_s + kInvitationLeewayS) {
      return refuse(std::string(name) + " " + std::to_string(*date) + " is in the future" + now +
                    ": is the site's clock right?");
    }
  }
  return *exp;
}

core::Result<std::string> required_string(const boost::json::object& claims, std::string_view name,
                                          std::size_t max_bytes) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr || !value->is_string() || value->as_string().empty())
    return refuse("needs " + std::string(name) + ", a non-empty string");
  if (value->as_string().size() > max_bytes) {
    return refuse(std::string(name) + " is longer than " + std::to_string(max_bytes) + " bytes");
  }
  return std::string(value->as_string());
}

core::Result<std::optional<std::string>> optional_string(const boost::json::object& claims,
                                                         std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) return refuse(std::string(name) + " is not a string");
  return std::string(value->as_string());
}

}  // namespace

core::Result<Invitation> verify_invitation(std::string_view jwt,
                                           const core::InvitationSettings& invitations,
                                           std::string_view room, std::int64_t now_s,
                                           const JwkSet* jwks) {
  if (jwt.size() > kMaxInvitationBytes)
    return refuse("is longer than " + std::to_string(kMaxInvitationBytes) + " bytes");
  auto token = parse_jwt(jwt);
  if (!token) return refuse("is not a signed JWT: " + token.error().detail);
  if (auto signed_by_key = check_signature(*token, invitations, jwks, room); !signed_by_key)
    return std::unexpected(signed_by_key.error());

  // Only now, with the payload authentic, is it decoded.
  auto claims = verified_claims(*token);
  if (!claims) return refuse("payload: " + claims.error().detail);
  Invitation invitation;
  const auto exp = check_times(*claims, now_s);
  if (!exp) return std::unexpected(exp.error());
  invitation.exp_s = *exp;
  if (!names_audience(claims->if_contains("aud"), room))
    return refuse("aud is not room " + quoted(room) + " (nor an array holding it)");
  auto sub = required_string(*claims, "sub", kMaxInvitationSubBytes);
  if (!sub) return std::unexpected(sub.error());
  invitation.sub = std::move(*sub);
  auto jti = required_string(*claims, "jti", kMaxInvitationJtiBytes);
  if (!jti) return std::unexpected(jti.error());
  invitation.jti = std::move(*jti);
  auto lane = optional_string(*claims, "lane");
  if (!lane) return std::unexpected(lane.error());
  invitation.lane = std::move(*lane);
  auto ip = optional_string(*claims, "ip");
  if (!ip) return std::unexpected(ip.error());
  if (*ip && !core::parse_ip_address(**ip))
    return refuse("ip " + quoted(**ip) + " is not an IPv4 or IPv6 address");
  invitation.ip = std::move(*ip);
  return invitation;
}

std::optional<std::string> invitation_kid(std::string_view jwt) {
  if (jwt.size() > kMaxInvitationBytes) return std::nullopt;
  auto token = parse_jwt(jwt);
  if (!token) return std::nullopt;
  return std::move(token->kid);
}

core::Result<void> check_invitation_keys(const core::InvitationSettings& invitations) {
  for (std::size_t i = 0; i < invitations.keys.size(); ++i) {
    const core::InvitationKey& key = invitations.keys[i];
    const auto alg = parse_algorithm(key.alg);
    if (!alg) continue;  // HS256 has a secret, not a key; core::validate checks the alg's name
    // Through the cache: the keys that pass here are the ones joins check signatures with.
    const auto pkey = public_key_cache().get(key.public_key, *alg);
    if (!pkey) {
      return core::fail(core::ErrorCode::bad_request,
                        "invitations.keys[" + std::to_string(i) + "].public_key: " + pkey.error());
    }
  }
  return {};
}

}  // namespace waitroom::token
