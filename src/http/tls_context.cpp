#include "http/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "core/rfc3339.hpp"

namespace waitroom::http {

namespace ssl = boost::asio::ssl;
using core::ErrorCode;
using core::fail;

namespace {

constexpr std::string_view kCertKey = "tls.cert_file";
constexpr std::string_view kKeyKey = "tls.key_file";

// TLS 1.2 suites (TLS 1.3 has only good ones): ECDHE for forward secrecy, AEAD ciphers only, as
// in Mozilla's "intermediate" profile without the finite-field DHE suites.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN protocol list in wire format (length-prefixed): the only protocol the server speaks.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::unexpected<core::Error> bad(std::string_view key, const std::filesystem::path& file,
                                 std::string why) {
  return fail(ErrorCode::bad_request,
              "config: " + std::string(key) + ": " + file.string() + ": " + std::move(why));
}

// The newest OpenSSL error, as text, and an empty queue for the next caller on this thread.
std::string openssl_reason() {
  const unsigned long code = ::ERR_peek_last_error();
  const char* reason = code ? ::ERR_reason_error_string(code) : nullptr;
  ::ERR_clear_error();
  return reason ? std::string(" (") + reason + ")" : std::string();
}

// Before OpenSSL reads it: a plain "cannot read" with the system's reason beats its error codes.
core::Result<void> check_readable(std::string_view key, const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return bad(key, file, std::string("cannot read: ") + std::strerror(errno));
  return {};
}

// An encrypted key would make OpenSSL ask for its passphrase on the terminal; refuse it instead.
int no_passphrase(char*, int, int, void*) { return 0; }

// Takes "http/1.1" when the client offers it; a client offering only h2 gets no ALPN answer and
// then speaks HTTP/1.1 anyway, as without ALPN.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void*) {
  unsigned char* selected = nullptr;
  if (::SSL_select_next_proto(&selected, out_length, kAlpnHttp11, sizeof kAlpnHttp11, in,
                              in_length) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

CertificateInfo describe(X509* cert) {
  CertificateInfo info;
  std::unique_ptr<BIO, decltype(&::BIO_free)> bio(::BIO_new(::BIO_s_mem()), &::BIO_free);
  if (bio &&
      ::X509_NAME_print_ex(bio.get(), ::X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0)
    info.subject = bio_text(bio.get());
  if (BIGNUM* serial = ::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = ::BN_bn2hex(serial)) {
      info.serial = hex;
      ::OPENSSL_free(hex);
    }
    ::BN_free(serial);
  }
  std::tm tm{};
  if (::ASN1_TIME_to_tm(::X509_get0_notAfter(cert), &tm) == 1) {
    info.not_after_s = static_cast<std::int64_t>(::timegm(&tm));
    info.not_after = core::format_rfc3339(info.not_after_s);
  }
  info.expired = ::X509_cmp_current_time(::X509_get0_notAfter(cert)) < 0;
  return info;
}

}  // namespace

TlsContext::TlsContext() : context_(ssl::context::tls_server) {}

core::Result<std::shared_ptr<TlsContext>> TlsContext::load(const std::filesystem::path& cert_file,
                                                           const std::filesystem::path& key_file) {
  if (auto r = check_readable(kCertKey, cert_file); !r) return std::unexpected(r.error());
  if (auto r = check_readable(kKeyKey, key_file); !r) return std::unexpected(r.error());
  std::shared_ptr<TlsContext> tls(new TlsContext());
  SSL_CTX* ctx = tls->context_.native_handle();
  ::ERR_clear_error();

  ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // The server's cipher order, not the client's; no TLS compression (CRIME); no renegotiation
  // (a client could make the server do handshake work over and over on one connection). A
  // client closing without close_notify reads as a plain end of stream: HTTP's framing, not
  // TLS's, tells a cut-off request.
  ::SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (::SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1)
    return fail(ErrorCode::internal, "tls: OpenSSL refused the cipher list" + openssl_reason());
  ::SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  ::SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);

  if (::SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1)
    return bad(kCertKey, cert_file, "no PEM certificate in it" + openssl_reason());
  // The key is read here rather than by SSL_CTX_use_PrivateKey_file, so that a file that holds
  // no key and a key of another certificate get different messages.
  std::unique_ptr<EVP_PKEY, decltype(&::EVP_PKEY_free)> key(nullptr, &::EVP_PKEY_free);
  {
    std::unique_ptr<BIO, decltype(&::BIO_free)> in(::BIO_new_file(key_file.c_str(), "r"),
                                                   &::BIO_free);
    if (in) key.reset(::PEM_read_bio_PrivateKey(in.get(), nullptr, no_passphrase, nullptr));
  }
  if (!key)
    return bad(kKeyKey, key_file, "no unencrypted PEM private key in it" + openssl_reason());
  if (::SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || ::SSL_CTX_check_private_key(ctx) != 1)
    return bad(
        kKeyKey, key_file,
        "is not the private key of the certificate in " + cert_file.string() + openssl_reason());
  tls->certificate_ = describe(::SSL_CTX_get0_certificate(ctx));
  ::ERR_clear_error();
  return tls;
}

CurrentTlsContext::CurrentTlsContext(std::filesystem::path cert_file,
                                     std::filesystem::path key_file,
                                     std::shared_ptr<TlsContext> loaded)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      current_(std::move(loaded)) {}

core::Result<std::shared_ptr<CurrentTlsContext>> CurrentTlsContext::open(
    std::filesystem::path cert_file, std::filesystem::path key_file) {
  auto loaded = TlsContext::load(cert_file, key_file);
  if (!loaded) return std::unexpected(loaded.error());
  return std::make_shared<CurrentTlsContext>(std::move(cert_file), std::move(key_file),
                                             std::move(*loaded));
}

std::shared_ptr<TlsContext> CurrentTlsContext::get() const {
  std::lock_guard lock(mutex_);
  return current_;
}

core::Result<CertificateInfo> CurrentTlsContext::reload() {
  auto loaded = TlsContext::load(cert_file_, key_file_);
  if (!loaded) return std::unexpected(loaded.error());
  CertificateInfo info = (*loaded)->certificate();
  std::shared_ptr<TlsContext> old;
  {
    std::lock_guard lock(mutex_);
    old = std::exchange(current_, std::move(*loaded));
  }
  return info;  // `old` goes here, or with the last connection that still uses it
}

}  // namespace waitroom::http
