#include "token/public_key.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <climits>
#include <optional>

#include "token/base64url.hpp"

namespace waitroom::token {
namespace {

constexpr std::size_t kP256CoordinateBytes = 32;
constexpr std::size_t kEs256RawSignatureBytes = 2 * kP256CoordinateBytes;  // r || s
constexpr unsigned char kUncompressedPoint = 0x04;                         // SEC 1 section 2.3.3
constexpr std::string_view kP256GroupName = "prime256v1";  // OpenSSL's name for P-256

struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
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
  if (raw.size() != kEs256RawSignatureBytes) return std::nullopt;
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

// OpenSSL's own check of a public key (for EC: the point is on the curve and not the identity).
bool passes_public_check(EVP_PKEY* pkey) {
  Owned<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  return check && EVP_PKEY_public_check(check.get()) == 1;
}

std::string rsa_size_error(int bits) {
  return "RSA key must have " + std::to_string(kMinRsaPublicKeyBits) + " to " +
         std::to_string(kMaxRsaPublicKeyBits) + " bits, not " + std::to_string(bits);
}

// A public key from OSSL_PARAMs, or nullptr when OpenSSL refuses it.
std::shared_ptr<EVP_PKEY> key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  if (!passes_public_check(pkey.get())) return nullptr;
  return pkey;
}

// A base64url member of `jwk` as bytes, or nullopt.
std::optional<std::string> b64_member(const boost::json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return base64url_decode(v->as_string());
}

bool string_member_is(const boost::json::object& jwk, std::string_view name,
                      std::string_view expected) {
  const auto* v = jwk.if_contains(name);
  return v != nullptr && v->is_string() && v->as_string() == expected;
}

PublicKeyResult ec_key_from_jwk(const boost::json::object& jwk) {
  if (!string_member_is(jwk, "kty", "EC")) return std::unexpected("ES256 needs an EC key");
  if (!string_member_is(jwk, "crv", "P-256")) return std::unexpected("EC key is not on P-256");
  const auto x = b64_member(jwk, "x");
  const auto y = b64_member(jwk, "y");
  if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes)
    return std::unexpected("EC key needs base64url x and y of 32 bytes");
  std::string point(1, static_cast<char>(kUncompressedPoint));
  point += *x;
  point += *y;
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kP256GroupName.data(),
                                      kP256GroupName.size()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return std::unexpected("out of memory");
  }
  auto pkey = key_from_params("EC", bld.get());
  if (!pkey) return std::unexpected("EC key is not a valid P-256 point");
  return pkey;
}

PublicKeyResult rsa_key_from_jwk(const boost::json::object& jwk) {
  if (!string_member_is(jwk, "kty", "RSA")) return std::unexpected("RS256 needs an RSA key");
  const auto n_bytes = b64_member(jwk, "n");
  const auto e_bytes = b64_member(jwk, "e");
  if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty())
    return std::unexpected("RSA key needs base64url n and e");
  Owned<BIGNUM> n(BN_bin2bn(bytes_of(*n_bytes), static_cast<int>(n_bytes->size()), nullptr));
  Owned<BIGNUM> e(BN_bin2bn(bytes_of(*e_bytes), static_cast<int>(e_bytes->size()), nullptr));
  if (!n || !e) return std::unexpected("out of memory");
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaPublicKeyBits || bits > kMaxRsaPublicKeyBits)
    return std::unexpected(rsa_size_error(bits));
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return std::unexpected("out of memory");
  }
  auto pkey = key_from_params("RSA", bld.get());
  if (!pkey) return std::unexpected("RSA key is not valid");
  return pkey;
}

// A public key never needs a password; one that asks for it (an encrypted PEM) is refused rather
// than prompted for on a terminal.
int no_password(char*, int, int, void*) { return -1; }

}  // namespace

PublicKeyResult public_key_from_jwk(const boost::json::object& jwk, Algorithm alg) {
  switch (alg) {
    case Algorithm::ES256:
      return ec_key_from_jwk(jwk);
    case Algorithm::RS256:
      return rsa_key_from_jwk(jwk);
  }
  return std::unexpected("unknown algorithm");
}

PublicKeyResult public_key_from_pem(std::string_view pem, Algorithm alg) {
  if (pem.size() > INT_MAX) return std::unexpected("not a PEM public key");
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return std::unexpected("out of memory");
  std::shared_ptr<EVP_PKEY> pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, &no_password, nullptr),
                                 EVP_PKEY_free);
  if (!pkey) return std::unexpected("not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")");
  switch (alg) {
    case Algorithm::ES256: {
      char group[32] = {};
      if (!EVP_PKEY_is_a(pkey.get(), "EC")) return std::unexpected("ES256 needs an EC key");
      if (EVP_PKEY_get_group_name(pkey.get(), group, sizeof group, nullptr) != 1 ||
          group != kP256GroupName) {
        return std::unexpected("EC key is not on P-256");
      }
      if (!passes_public_check(pkey.get()))
        return std::unexpected("EC key is not a valid P-256 point");
      return pkey;
    }
    case Algorithm::RS256: {
      if (!EVP_PKEY_is_a(pkey.get(), "RSA")) return std::unexpected("RS256 needs an RSA key");
      const int bits = EVP_PKEY_get_bits(pkey.get());
      if (bits < kMinRsaPublicKeyBits || bits > kMaxRsaPublicKeyBits)
        return std::unexpected(rsa_size_error(bits));
      if (!passes_public_check(pkey.get())) return std::unexpected("RSA key is not valid");
      return pkey;
    }
  }
  return std::unexpected("unknown algorithm");
}

bool verify_signature(EVP_PKEY* key, Algorithm alg, std::string_view signing_input,
                      std::string_view signature) {
  std::optional<std::string> der;
  if (alg == Algorithm::ES256) {
    der = raw_to_der(signature);
    if (!der) return false;
    signature = *der;
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(signing_input),
                          signing_input.size()) == 1;
}

}  // namespace waitroom::token
