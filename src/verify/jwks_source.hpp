#pragma once
// Where a Verifier's JWKS comes from: a file, or an http(s) URL fetched with the server's own
// outbound client (net/http_client.hpp, compiled into the library).
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <string>

namespace waitroom::verify::detail {

// Bigger JWKS documents are refused: a few keys take a few kilobytes.
inline constexpr std::size_t kMaxJwksBytes = 1024 * 1024;

class JwksSource {
 public:
  // `location`: "http://…", "https://…", "file:///path" or a plain path. `ca_file` (https only):
  // PEM CAs to trust instead of the system's. Errors name what is wrong with the location.
  static std::expected<std::unique_ptr<JwksSource>, std::string> create(
      const std::string& location, std::chrono::milliseconds timeout, const std::string& ca_file);

  virtual ~JwksSource() = default;

  // The document's bytes, or why there are none. One call at a time (the caller serializes);
  // blocks at most the timeout for URLs.
  virtual std::expected<std::string, std::string> fetch() = 0;
};

}  // namespace waitroom::verify::detail
