#include "verify/jwks_source.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "waitroom/verify.hpp"

namespace waitroom::verify::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr unsigned kHttpVersion11 = 11;
constexpr unsigned kStatusOk = 200;
constexpr unsigned kSwitchingProtocols = 101;
constexpr unsigned kMaxPort = 65535;
constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;
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
// URLs: one short-lived HTTP/1.1 connection per fetch. Every step is an asynchronous operation
// run to completion on a private io_context, because that is what gives each step a deadline
// (Beast's synchronous calls have none): the caller sees a blocking fetch that takes at most
// `timeout`.

struct Endpoint {
  bool tls = false;
  std::string host;         // decoded; IPv6 without brackets: for the resolver and the cert
  bool host_is_ip = false;  // IP literals get no SNI (RFC 6066 section 3)
  std::uint16_t port = 0;   // explicit, or 80/443
  std::string host_header;  // host[:port] as written in the URL
  std::string target;       // path and query, at least "/"
  std::string display;      // for messages: scheme://host[:port]/path
};

std::expected<Endpoint, std::string> parse_endpoint(const urls::url_view& url) {
  Endpoint e;
  e.tls = url.scheme_id() == urls::scheme::https;
  if (!url.has_authority() || url.encoded_host().empty()) return std::unexpected("has no host");
  if (url.has_userinfo()) return std::unexpected("must not carry a user name or password");
  switch (url.host_type()) {
    case urls::host_type::name:
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      e.host_is_ip = true;
      break;
    default:
      return std::unexpected("host must be a name, IPv4 or IPv6 address");
  }
  e.host = url.host_address();
  e.port = e.tls ? kHttpsPort : kHttpPort;
  e.host_header = url.encoded_host();
  if (url.has_port() && !url.port().empty()) {
    // Parsed here: Boost.URL 1.81's port_number() wraps around above 65535 instead of failing.
    const std::string_view digits = url.port();
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || port < 1 || port > kMaxPort)
      return std::unexpected("port must be 1-65535");
    e.port = static_cast<std::uint16_t>(port);
    e.host_header += ":" + std::to_string(port);
  }
  e.target = url.encoded_target();
  if (e.target.empty() || e.target.front() != '/') e.target.insert(0, "/");
  e.display = std::string(url.scheme()) + "://" + e.host_header + std::string(url.encoded_path());
  return e;
}

// Runs one asynchronous operation, started by `start(handler)`, until its handler ran.
template <class Start>
beast::error_code run_one_op(asio::io_context& ioc, Start&& start) {
  std::optional<beast::error_code> result;
  start([&result](const beast::error_code& ec, auto&&...) { result = ec; });
  ioc.restart();
  while (!result && ioc.run_one() != 0) {
  }
  return result.value_or(asio::error::operation_aborted);
}

// A name lookup on its own thread. getaddrinfo can be neither cancelled nor given a deadline, and
// Asio's resolver waits for it when cancelled or destroyed, so a DNS server that does not answer
// would hold the fetch past its timeout. Here the fetch just stops waiting at the deadline; the
// detached lookup finishes in its own time and its answer is dropped.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

beast::error_code resolve(const Endpoint& e, SteadyClock::time_point deadline,
                          std::vector<tcp::endpoint>& out) {
  if (e.host_is_ip) {
    out.emplace_back(asio::ip::make_address(e.host), e.port);
    return {};
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, host = e.host, port = std::to_string(e.port)] {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      beast::error_code ec;
      const auto results = resolver.resolve(host, port, ec);
      std::lock_guard lock(lookup->mutex);
      lookup->ec = ec;
      for (const auto& entry : results) lookup->endpoints.push_back(entry.endpoint());
      lookup->done = true;
      lookup->done_cv.notify_all();
    }).detach();
  } catch (const std::system_error& error) {
    return error.code();
  }
  std::unique_lock lock(lookup->mutex);
  if (!lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; }))
    return beast::error::timeout;
  if (lookup->ec) return lookup->ec;
  out = std::move(lookup->endpoints);
  return {};
}

class UrlSource final : public JwksSource {
 public:
  UrlSource(Endpoint endpoint, std::chrono::milliseconds timeout, std::optional<ssl::context> tls)
      : endpoint_(std::move(endpoint)), timeout_(timeout), tls_(std::move(tls)) {}

  std::expected<std::string, std::string> fetch() override {
    const auto deadline = SteadyClock::now() + timeout_;
    std::vector<tcp::endpoint> endpoints;
    if (const auto ec = resolve(endpoint_, deadline, endpoints))
      return failed("cannot resolve " + endpoint_.host, ec);

    asio::io_context ioc{1};
    beast::error_code ec;
    if (!tls_) {
      beast::tcp_stream stream(ioc);
      stream.expires_at(deadline);
      ec = run_one_op(ioc, [&](auto done) { stream.async_connect(endpoints, done); });
      if (ec) return failed("cannot connect", ec);
      return exchange(ioc, stream, deadline);
    }

    beast::ssl_stream<beast::tcp_stream> stream(ioc, *tls_);
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(deadline);
    ec = run_one_op(ioc, [&](auto done) { lowest.async_connect(endpoints, done); });
    if (ec) return failed("cannot connect", ec);
    // SNI, so that a server hosting several names presents the right certificate, and a check
    // of that certificate's chain and name (DNS or IP entry).
    if (!endpoint_.host_is_ip &&
        SSL_set_tlsext_host_name(stream.native_handle(), endpoint_.host.c_str()) != 1) {
      return failed("cannot set SNI", beast::error_code(static_cast<int>(::ERR_get_error()),
                                                        asio::error::get_ssl_category()));
    }
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(endpoint_.host));
    lowest.expires_at(deadline);
    ec =
        run_one_op(ioc, [&](auto done) { stream.async_handshake(ssl::stream_base::client, done); });
    if (ec) return failed("TLS handshake failed", ec);
    return exchange(ioc, stream, deadline);
  }

 private:
  std::unexpected<std::string> failed(std::string what, const beast::error_code& ec) const {
    return std::unexpected("GET " + endpoint_.display + ": " + std::move(what) + ": " +
                           (ec == beast::error::timeout ? std::string("timed out") : ec.message()));
  }

  template <class Stream>
  std::expected<std::string, std::string> exchange(asio::io_context& ioc, Stream& stream,
                                                   SteadyClock::time_point deadline) {
    http::request<http::empty_body> req{http::verb::get, endpoint_.target, kHttpVersion11};
    req.set(http::field::host, endpoint_.host_header);
    req.set(http::field::user_agent, kUserAgent);
    req.set(http::field::accept, "application/json");
    req.keep_alive(false);
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_at(deadline);
    auto ec = run_one_op(ioc, [&](auto done) { http::async_write(stream, req, done); });
    if (ec) return failed("cannot send the request", ec);

    beast::flat_buffer buffer;
    while (true) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxJwksBytes);
      lowest.expires_at(deadline);
      ec = run_one_op(ioc, [&](auto done) { http::async_read(stream, buffer, parser, done); });
      if (ec == http::error::body_limit) return failed("answer too large", ec);
      if (ec) return failed("no answer", ec);
      const unsigned status = parser.get().result_int();
      // An interim answer (100 Continue, 103 Early Hints): the real one follows on the wire.
      if (status / 100 == 1 && status != kSwitchingProtocols) continue;
      if (status != kStatusOk) {
        return std::unexpected("GET " + endpoint_.display + ": answered HTTP " +
                               std::to_string(status));
      }
      return std::move(parser.get().body());
    }
  }

  const Endpoint endpoint_;
  const std::chrono::milliseconds timeout_;
  std::optional<ssl::context> tls_;
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
  auto endpoint = parse_endpoint(*parsed);
  if (!endpoint) return std::unexpected("jwks: URL " + endpoint.error());
  if (timeout <= std::chrono::milliseconds::zero())
    return std::unexpected("fetch_timeout: must be positive");

  std::optional<ssl::context> tls;
  if (endpoint->tls) {
    tls.emplace(ssl::context::tls_client);
    beast::error_code ec;
    if (ca_file.empty())
      tls->set_default_verify_paths(ec);
    else
      tls->load_verify_file(ca_file, ec);
    if (ec) {
      return std::unexpected(ca_file.empty()
                                 ? "cannot load the system CA paths: " + ec.message()
                                 : "ca_file: cannot load " + ca_file + ": " + ec.message());
    }
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  }
  return std::make_unique<UrlSource>(std::move(*endpoint), timeout, std::move(tls));
}

}  // namespace waitroom::verify::detail
