#include "verify/jwks_source.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fstream>

#include "net/http_client.hpp"
#include "waitroom/verify.hpp"

namespace waitroom::verify::detail {
namespace {

namespace urls = boost::urls;

constexpr unsigned kStatusOk = 200;
constexpr std::string_view kUserAgent = "waitroom-verify/" WAITROOM_VERIFY_VERSION;

// ---------------------------------------------------------------------------------------------
// Files: read whole, with a size limit, on every fetch (so a rewritten file is picked up).

class FileSource final : public JwksSource {
 public:
  explicit FileSource(std::string path) : path_(std::move(path)) {}

  std::expected<std::string, std::string> fetch() override {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return std::unexpected("cannot open " + path_);
    std::string text(kMaxJwksBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return std::unexpected("cannot read " + path_);
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxJwksBytes) return std::unexpected(path_ + " is larger than 1 MiB");
    return text;
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// URLs: one short-lived connection per fetch, through the shared client (net/http_client.hpp),
// which gives every step a deadline: the caller sees a blocking fetch that takes at most
// `timeout`.

class UrlSource final : public JwksSource {
 public:
  explicit UrlSource(std::unique_ptr<net::HttpClient> client) : client_(std::move(client)) {}

  std::expected<std::string, std::string> fetch() override {
    net::ClientRequest request;
    request.headers = {{"User-Agent", std::string(kUserAgent)}, {"Accept", "application/json"}};
    auto answer = client_->send(request);
    const std::string& display = client_->url().display;
    if (!answer) return std::unexpected("GET " + display + ": " + answer.error().message());
    if (answer->status != kStatusOk)
      return std::unexpected("GET " + display + ": answered HTTP " +
                             std::to_string(answer->status));
    return std::move(answer->body);
  }

 private:
  std::unique_ptr<net::HttpClient> client_;
};

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::expected<std::unique_ptr<JwksSource>, std::string> JwksSource::create(
    const std::string& location, std::chrono::milliseconds timeout, const std::string& ca_file) {
  if (location.empty()) return std::unexpected("jwks: is required (a URL or a file path)");
  const bool is_url = starts_with_ci(location, "http://") || starts_with_ci(location, "https://");
  const bool is_file_url = starts_with_ci(location, "file:");
  if (!is_url && !is_file_url) return std::make_unique<FileSource>(location);

  auto parsed = urls::parse_uri(location);
  if (!parsed) return std::unexpected("jwks: not a valid URL (" + parsed.error().message() + ")");
  if (is_file_url) {
    if (!parsed->encoded_host().empty() && parsed->host() != "localhost")
      return std::unexpected("jwks: a file: URL must name a local file (file:///path)");
    return std::make_unique<FileSource>(std::string(parsed->path()));
  }
  auto url = net::parse_http_url(location);
  if (!url) return std::unexpected("jwks: URL " + url.error());
  if (url->has_userinfo) return std::unexpected("jwks: URL must not carry a user name or password");
  if (timeout <= std::chrono::milliseconds::zero())
    return std::unexpected("fetch_timeout: must be positive");
  auto client = net::HttpClient::create(std::move(*url), {.timeout = timeout,
                                                          .ca_file = ca_file,
                                                          .max_body_bytes = kMaxJwksBytes,
                                                          .keep_alive = false});
  if (!client) return std::unexpected(std::move(client.error()));
  return std::make_unique<UrlSource>(std::move(*client));
}

}  // namespace waitroom::verify::detail
