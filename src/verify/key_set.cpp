#include "verify/key_set.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <optional>

#include "token/base64url.hpp"

namespace waitroom::verify::detail {
namespace {

constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::size_t kEs256SignatureBytes = 2 * kP256CoordinateBytes;  // raw r || s
constexpr unsigned char kUncompressedPoint = 0x04;                      // SEC 1 section 2.3.3
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // bigger keys only make verification slow
constexpr std::size_t kMaxKidChars = 256;
constexpr char kP256GroupName[] = "prime256v1";  // OpenSSL's name for P-256

struct OpenSslFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, OpenSslFree>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// ES256: 64-byte r || s -> DER ECDSA-Sig-Value, which is what OpenSSL verifies.
std::optional<std::string> raw_to_der(std::string_view raw) {
  if (raw.size() != kEs256SignatureBytes) return std::nullopt;
  Owned<BIGNUM> r(BN_bin2bn(bytes_of(raw), kP256CoordinateBytes, nullptr));
  Owned<BIGNUM> s(BN_bin2bn(bytes_of(raw) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr));
  Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // now owned by sig
  s.release();
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return std::nullopt;
  Owned<unsigned char> der_owner(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_len));
}

// A public key from OSSL_PARAMs, checked by OpenSSL (for EC: the point is on the curve).
std::shared_ptr<EVP_PKEY> key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  Owned<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return pkey;
}

// A base64url member of `jwk` as bytes, or nullopt.
std::optional<std::string> b64_member(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return token::base64url_decode(v->as_string());
}

std::expected<std::shared_ptr<EVP_PKEY>, std::string> ec_key(const boost::json::object& jwk) {
  const auto* crv = jwk.if_contains("crv");
  if (crv == nullptr || !crv->is_string() || crv->as_string() != "P-256")
    return std::unexpected("EC key is not on P-256");
  const auto x = b64_member(jwk, "x");
  const auto y = b64_member(jwk, "y");
  if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes)
    return std::unexpected("EC key needs base64url x and y of 32 bytes");
  std::string point(1, static_cast<char>(kUncompressedPoint));
  point += *x;
  point += *y;
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kP256GroupName, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return std::unexpected("out of memory");
  }
  auto pkey = key_from_params("EC", bld.get());
  if (!pkey) return std::unexpected("EC key is not a valid P-256 point");
  return pkey;
}

std::expected<std::shared_ptr<EVP_PKEY>, std::string> rsa_key(const boost::json::object& jwk) {
  const auto n_bytes = b64_member(jwk, "n");
  const auto e_bytes = b64_member(jwk, "e");
  if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty())
    return std::unexpected("RSA key needs base64url n and e");
  Owned<BIGNUM> n(BN_bin2bn(bytes_of(*n_bytes), static_cast<int>(n_bytes->size()), nullptr));
  Owned<BIGNUM> e(BN_bin2bn(bytes_of(*e_bytes), static_cast<int>(e_bytes->size()), nullptr));
  if (!n || !e) return std::unexpected("out of memory");
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits)
    return std::unexpected("RSA key must have 2048 to 8192 bits, not " + std::to_string(bits));
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return std::unexpected("out of memory");
  }
  auto pkey = key_from_params("RSA", bld.get());
  if (!pkey) return std::unexpected("RSA key is not valid");
  return pkey;
}

std::string string_member(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// One JWK -> a key, or why it cannot verify passes.
std::expected<PublicKey, std::string> parse_jwk(const boost::json::object& jwk) {
  const auto* kid_value = jwk.if_contains("kid");
  if (kid_value == nullptr || !kid_value->is_string() || kid_value->as_string().empty() ||
      kid_value->as_string().size() > kMaxKidChars) {
    return std::unexpected("a key without a kid");
  }
  const std::string kid(kid_value->as_string());
  const auto fail = [&kid](std::string why) {
    return std::unexpected("key " + kid + ": " + std::move(why));
  };
  if (const auto* use = jwk.if_contains("use");
      use != nullptr && (!use->is_string() || use->as_string() != "sig"))
    return fail("its use is not \"sig\"");

  // The key type decides the algorithm; "alg", when present, must agree with it. Anything
  // symmetric ("oct", HS256) or unsigned never reaches this point with a usable type.
  const std::string kty = string_member(jwk, "kty");
  Algorithm alg;
  if (kty == "EC") {
    alg = Algorithm::ES256;
  } else if (kty == "RSA") {
    alg = Algorithm::RS256;
  } else {
    return fail("key type \"" + kty + "\" cannot sign passes");
  }
  if (const auto* alg_value = jwk.if_contains("alg");
      alg_value != nullptr &&
      (!alg_value->is_string() || alg_value->as_string() != to_string(alg))) {
    return fail("its alg does not fit its " + kty + " key (only ES256 and RS256 are used)");
  }

  auto pkey = alg == Algorithm::ES256 ? ec_key(jwk) : rsa_key(jwk);
  if (!pkey) return fail(pkey.error());
  std::string material = kty;
  for (const char* member : {"crv", "x", "y", "n", "e"}) {
    material += ':';
    material += string_member(jwk, member);
  }
  return PublicKey(kid, alg, std::move(*pkey), std::move(material));
}

}  // namespace

bool PublicKey::verify(std::string_view signing_input, std::string_view signature) const {
  std::optional<std::string> der;
  if (alg_ == Algorithm::ES256) {
    der = raw_to_der(signature);
    if (!der) return false;
    signature = *der;
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(signing_input),
                          signing_input.size()) == 1;
}

bool KeySet::keeps_all_of(const KeySet& older) const {
  for (const PublicKey& old_key : older.keys) {
    const PublicKey* now = find(old_key.kid());
    if (now == nullptr || now->alg() != old_key.alg() || now->material() != old_key.material())
      return false;
  }
  return true;
}

std::expected<KeySet, std::string> parse_jwks(std::string_view json,
                                              std::vector<std::string>* skipped) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return std::unexpected("JWKS is not JSON: " + ec.message());
  const auto* keys_value = doc.is_object() ? doc.as_object().if_contains("keys") : nullptr;
  if (keys_value == nullptr || !keys_value->is_array())
    return std::unexpected("JWKS is not an object with a \"keys\" array");

  KeySet set;
  for (const boost::json::value& entry : keys_value->as_array()) {
    std::expected<PublicKey, std::string> key =
        entry.is_object() ? parse_jwk(entry.as_object())
                          : std::unexpected<std::string>("a key that is not a JSON object");
    if (key && set.find(key->kid()) != nullptr)
      key = std::unexpected("key " + key->kid() + ": listed twice");
    if (!key) {
      if (skipped != nullptr) skipped->push_back(std::move(key.error()));
      continue;
    }
    set.keys.push_back(std::move(*key));
  }
  if (set.keys.empty()) return std::unexpected("JWKS has no usable ES256 or RS256 key");
  return set;
}

}  // namespace waitroom::verify::detail
