#pragma once
// Test-only: self-signed certificates made on the spot (ECDSA P-256), written as PEM files.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

namespace waitroom::testing {

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

inline std::string pem_of(int (*write)(BIO*, void*), void* object) {
  std::unique_ptr<BIO, decltype(&::BIO_free)> bio(::BIO_new(::BIO_s_mem()), &::BIO_free);
  write(bio.get(), object);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

inline TestCertificate pem_pair(X509* cert, EVP_PKEY* key) {
  TestCertificate out;
  out.cert_pem =
      pem_of([](BIO* b, void* x) { return ::PEM_write_bio_X509(b, static_cast<X509*>(x)); }, cert);
  out.key_pem = pem_of(
      [](BIO* b, void* k) {
        return ::PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0,
                                          nullptr, nullptr);
      },
      key);
  return out;
}

// A certificate for `common_name` with `serial`, valid from now for `valid_s` seconds (negative:
// expired that long ago).
inline TestCertificate make_test_certificate(const std::string& common_name, long serial,
                                             long valid_s = 3600) {
  std::unique_ptr<EVP_PKEY, decltype(&::EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &::EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&::X509_free)> cert(::X509_new(), &::X509_free);
  ::X509_set_version(cert.get(), 2);
  ::ASN1_INTEGER_set(::X509_get_serialNumber(cert.get()), serial);
  ::X509_gmtime_adj(::X509_getm_notBefore(cert.get()), valid_s < 0 ? 2 * valid_s : 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(cert.get()), valid_s);
  X509_NAME* name = ::X509_get_subject_name(cert.get());
  ::X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
  ::X509_set_issuer_name(cert.get(), name);
  ::X509_set_pubkey(cert.get(), key.get());
  ::X509_sign(cert.get(), key.get(), ::EVP_sha256());
  return pem_pair(cert.get(), key.get());
}

// A self-signed certificate that is its own CA, for `subject_alt_names`
// ("DNS:localhost,IP:127.0.0.1"): what a test server presents when the client is given it as its
// ca_file.
inline TestCertificate make_server_certificate(const char* subject_alt_names) {
  std::unique_ptr<EVP_PKEY, decltype(&::EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &::EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&::X509_free)> cert(::X509_new(), &::X509_free);
  ::X509_set_version(cert.get(), 2);
  ::ASN1_INTEGER_set(::X509_get_serialNumber(cert.get()), 1);
  ::X509_gmtime_adj(::X509_getm_notBefore(cert.get()), -60);
  ::X509_gmtime_adj(::X509_getm_notAfter(cert.get()), 3600);
  ::X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = ::X509_get_subject_name(cert.get());
  ::X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("waitroom test"), -1, -1, 0);
  ::X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  ::X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, subject_alt_names},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = ::X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ::X509_add_ext(cert.get(), ext, -1);
    ::X509_EXTENSION_free(ext);
  }
  ::X509_sign(cert.get(), key.get(), ::EVP_sha256());
  return pem_pair(cert.get(), key.get());
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace waitroom::testing
