#pragma once
// The listener's TLS ([tls]): a certificate chain and key with the server's TLS settings, and the
// slot new connections take theirs from, which SIGHUP refills without touching open connections.
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/error.hpp"

namespace waitroom::http {

// What a certificate says about itself, for the logs and /metrics.
struct CertificateInfo {
  std::string subject;           // RFC 2253, e.g. "CN=queue.example.com,O=Example"
  std::string serial;            // hex
  std::string not_after;         // RFC 3339, UTC
  std::int64_t not_after_s = 0;  // the same, Unix time (for /metrics)
  bool expired = false;
};

// One certificate chain and its key, with settings for today's clients: TLS 1.2 and 1.3 only,
// forward-secret AEAD ciphers in the server's order, no compression, no renegotiation, ALPN
// "http/1.1". Connections hold it by shared_ptr, so one made before a reload keeps its own.
class TlsContext {
 public:
  // Reads both PEM files (`cert_file`: the certificate, then any intermediates). Errors name the
  // config key and the file: unreadable, no certificate or key in it, an encrypted key, or a key
  // that is not the certificate's.
  static core::Result<std::shared_ptr<TlsContext>> load(const std::filesystem::path& cert_file,
                                                        const std::filesystem::path& key_file);

  boost::asio::ssl::context& asio_context() { return context_; }
  const CertificateInfo& certificate() const { return certificate_; }

 private:
  TlsContext();
  boost::asio::ssl::context context_;
  CertificateInfo certificate_;
};

// The context new connections get. Shared by every I/O thread: a lock around a pointer copy, taken
// once per accepted connection.
class CurrentTlsContext {
 public:
  CurrentTlsContext(std::filesystem::path cert_file, std::filesystem::path key_file,
                    std::shared_ptr<TlsContext> loaded);
  // Loads the files named by [tls] (start-up).
  static core::Result<std::shared_ptr<CurrentTlsContext>> open(std::filesystem::path cert_file,
                                                               std::filesystem::path key_file);

  std::shared_ptr<TlsContext> get() const;
  // Reads the same two files again (a renewed certificate) and gives new connections the result.
  // On any error the current context stays, and the error says which file is wrong.
  core::Result<CertificateInfo> reload();

 private:
  const std::filesystem::path cert_file_;
  const std::filesystem::path key_file_;
  mutable std::mutex mutex_;
  std::shared_ptr<TlsContext> current_;
};

}  // namespace waitroom::http
