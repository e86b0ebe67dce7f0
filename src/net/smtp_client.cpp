#include "net/smtp_client.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <optional>
#include <vector>

#include "net/byte_stream.hpp"
#include "net/client_tls.hpp"
#include "net/name_lookup.hpp"

namespace waitroom::net {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// RFC 5321 section 4.5.3.1: 512 characters a reply line, 64 a local part, 254 an address (a
// path of 256 with its brackets), 63 a domain label.
constexpr std::size_t kMaxReplyBytes = 64 * 1024;  // buffered and unparsed: generous, but bounded
constexpr int kMaxReplyLines = 100;
constexpr std::size_t kMaxReasonChars = 300;  // of a server's words, in an error and so a log
constexpr std::size_t kMaxLocalPart = 64;
constexpr std::size_t kMaxAddress = 254;
constexpr std::size_t kMaxLabel = 63;
// How long QUIT may take once the mail is taken or refused: it changes nothing either way.
constexpr std::chrono::seconds kQuitWait{1};

constexpr int kServiceReady = 220;
constexpr int kOk = 250;
constexpr int kUserNotLocalWillForward = 251;
constexpr int kAuthSucceeded = 235;
constexpr int kAuthContinue = 334;
constexpr int kStartMailInput = 354;

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // each line's text after its code
};

// A server's words as an error may carry them: printable ASCII, one line, bounded.
std::string printable(std::string_view text) {
  std::string out;
  for (const char ch : text.substr(0, kMaxReasonChars)) {
    const auto u = static_cast<unsigned char>(ch);
    out += (u >= 0x20 && u < 0x7f) ? ch : '?';
  }
  if (text.size() > kMaxReasonChars) out += "...";
  return out;
}

std::string reply_text(const Reply& reply) {
  std::string text = std::to_string(reply.code);
  for (const std::string& line : reply.lines) {
    if (!line.empty()) text += ' ' + line;
  }
  return printable(text);
}

SmtpError network_error(std::string step, const error_code& ec) {
  if (ec == asio::error::timed_out) return {std::move(step), "timed out", false, true};
  if (ec == asio::error::eof) return {std::move(step), "the server closed the connection"};
  return {std::move(step), ec.message()};
}

// A reply other than the one the step needs. Only 5xx is the server's final word on this mail;
// anything else (4xx, a reply out of place) may go better on a later attempt.
SmtpError refusal(std::string step, const Reply& reply) {
  return {std::move(step), reply_text(reply), reply.code / 100 == 5};
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// What EHLO's reply offers that the client uses.
struct Extensions {
  bool starttls = false;
  bool auth_plain = false;
  bool auth_login = false;
  bool auth = false;  // any AUTH line at all
};

Extensions read_extensions(const Reply& reply) {
  Extensions out;
  // The first line names the server; each later one is a keyword and its parameters. Old servers
  // wrote "AUTH=PLAIN LOGIN".
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    std::string line = reply.lines[i];
    std::ranges::transform(line, line.begin(), [](unsigned char c) { return std::toupper(c); });
    std::ranges::replace(line, '=', ' ');
    const std::string keyword = line.substr(0, line.find(' '));
    if (keyword == "STARTTLS") out.starttls = true;
    if (keyword != "AUTH") continue;
    out.auth = true;
    std::size_t at = keyword.size();
    while (at < line.size()) {
      const std::size_t start = line.find_first_not_of(' ', at);
      if (start == std::string::npos) break;
      const std::size_t end = std::min(line.find(' ', start), line.size());
      const std::string_view mechanism = std::string_view(line).substr(start, end - start);
      out.auth_plain |= mechanism == "PLAIN";
      out.auth_login |= mechanism == "LOGIN";
      at = end;
    }
  }
  return out;
}

// The message as DATA carries it: every line end CRLF (a lone LF or CR counts as one), a '.'
// doubled at the start of a line (RFC 5321 section 4.5.2, so that no line reads as the end), the
// last line ended, then the end: ".".
std::string data_section(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char ch = message[i];
    if (ch == '\r' || ch == '\n') {
      if (ch == '\r' && i + 1 < message.size() && message[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && ch == '.') out += '.';
    out += ch;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

bool is_atext(unsigned char c) {
  return std::isalnum(c) != 0 ||
         std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
             std::string_view::npos;
}

std::string describe(unsigned char c) {
  if (c < 0x20 || c == 0x7f) return "a control character";
  if (c >= 0x80) return "a character that is not ASCII (not supported)";
  if (c == ' ') return "a space";
  return std::string("'") + static_cast<char>(c) + "'";
}

std::expected<void, std::string> check_domain(std::string_view domain) {
  if (domain.empty()) return std::unexpected("has no domain after the '@'");
  if (domain.front() == '[') {  // an address literal: [192.0.2.1] or [IPv6:2001:db8::1]
    std::string_view inside = domain.substr(1);
    if (!inside.ends_with(']') || inside.size() < 2)
      return std::unexpected("has an address literal without its closing ']'");
    inside.remove_suffix(1);
    if (inside.starts_with("IPv6:")) inside.remove_prefix(5);
    for (const char ch : inside) {
      if (std::isxdigit(static_cast<unsigned char>(ch)) == 0 && ch != '.' && ch != ':')
        return std::unexpected("has " + describe(static_cast<unsigned char>(ch)) +
                               " in its address literal");
    }
    return {};
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(domain.find('.', start), domain.size());
    const std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > kMaxLabel || label.front() == '-' || label.back() == '-')
      return std::unexpected(
          "has a domain that is not a host name (labels of 1 to 63 letters, digits and inner "
          "hyphens, separated by single dots)");
    for (const char ch : label) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) == 0 && ch != '-')
        return std::unexpected("contains " + describe(c) + " after the '@'");
    }
    if (end == domain.size()) return {};
    start = end + 1;
  }
}

}  // namespace

std::expected<void, std::string> check_mail_address(std::string_view address) {
  if (address.empty()) return std::unexpected("is empty");
  if (address.find_first_of("\r\n") != std::string_view::npos)
    return std::unexpected("contains CR or LF");
  if (address.find_first_of("<>") != std::string_view::npos)
    return std::unexpected("contains '<' or '>'");
  if (address.size() > kMaxAddress) return std::unexpected("is longer than 254 characters");
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos) return std::unexpected("has no '@' (local@domain)");
  if (address.find('@', at + 1) != std::string_view::npos)
    return std::unexpected("has more than one '@'");
  const std::string_view local = address.substr(0, at);
  if (local.empty()) return std::unexpected("has nothing before the '@'");
  if (local.size() > kMaxLocalPart)
    return std::unexpected("has more than 64 characters before the '@'");
  for (const char ch : local) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_atext(c) && ch != '.')
      return std::unexpected("contains " + describe(c) + " before the '@'");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return std::unexpected(
        "has a '.' at the start or end of the part before the '@', or two in a row");
  return check_domain(address.substr(at + 1));
}

// One connection, driven synchronously by the caller's thread: each step starts one asynchronous
// operation and runs the private io_context until it completes or the send's deadline passes (a
// timer then closes the socket). Going through the async API is what gives every step the
// deadline and lets abort() cancel a step from another thread. ByteStream carries the connection
// plain, then, after STARTTLS, over TLS on the same socket.
struct SmtpClient::Connection {
  asio::io_context ioc{1};
  asio::steady_timer timer{ioc};
  std::optional<ssl::context> tls;  // unless TLS is off
  std::optional<ByteStream> stream;
  std::string input;  // read from the server and not yet parsed
  SteadyClock::time_point deadline;
  std::atomic<bool> aborted{false};
  NameLookup lookup;  // on its own thread, which abort() wakes

  void close() {
    if (stream) {
      error_code ignored;
      stream->socket().close(ignored);
    }
    stream.reset();
    input.clear();
  }

  // Starts one operation with `start(handler)` and runs the io_context until its handler ran.
  // Past the deadline the socket is closed, and the step fails with timed_out.
  template <class Start>
  error_code wait(Start&& start) {
    if (aborted) return asio::error::operation_aborted;
    std::optional<error_code> result;
    bool expired = false;
    timer.expires_at(deadline);
    timer.async_wait([this, &expired](const error_code& ec) {
      if (ec) return;  // cancelled: the step ended first
      expired = true;
      if (stream) {
        error_code ignored;
        stream->socket().close(ignored);
      }
    });
    start([&result](const error_code& ec, auto&&...) { result = ec; });
    ioc.restart();
    while (!result && ioc.run_one() != 0) {
    }
    timer.cancel();
    ioc.restart();
    ioc.run();  // the timer's handler, so that none refers to this frame later
    if (aborted) return asio::error::operation_aborted;
    if (result && !*result) return {};
    if (expired) return asio::error::timed_out;
    return result.value_or(asio::error::operation_aborted);
  }

  error_code resolve(const std::string& host, std::uint16_t port, std::vector<tcp::endpoint>& out) {
    return lookup.resolve(host, port, deadline, aborted, out);
  }

  std::expected<void, SmtpError> connect(const Options& o) {
    close();
    std::vector<tcp::endpoint> endpoints;
    if (const auto ec = resolve(o.host, o.port, endpoints))
      return std::unexpected(network_error("cannot resolve " + o.host, ec));
    stream.emplace(ioc.get_executor());
    auto ec = wait([&](auto done) { asio::async_connect(stream->socket(), endpoints, done); });
    if (ec) return std::unexpected(network_error("cannot connect", ec));
    stream->socket().set_option(tcp::no_delay(true), ec);  // commands are small writes
    return {};
  }

  // TLS over the connected socket: SNI, so that a server hosting several names presents the
  // right certificate, and a check of that certificate's chain and name (DNS or IP entry).
  std::expected<void, SmtpError> handshake(const std::string& host) {
    tcp::socket socket = std::move(stream->socket());  // out before the old stream goes
    stream.emplace(std::move(socket), *tls, nullptr);  // the client owns the context
    auto& secure = stream->tls();
    error_code ec;
    const bool host_is_ip = (asio::ip::make_address(host, ec), !ec);
    if (!host_is_ip && SSL_set_tlsext_host_name(secure.native_handle(), host.c_str()) != 1) {
      return std::unexpected(network_error(
          "cannot set SNI",
          error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category())));
    }
    secure.set_verify_mode(ssl::verify_peer);
    secure.set_verify_callback(ssl::host_name_verification(host));
    ec = wait([&](auto done) { secure.async_handshake(ssl::stream_base::client, done); });
    if (ec) return std::unexpected(network_error("TLS handshake failed", ec));
    return {};
  }

  std::expected<void, SmtpError> write(const std::string& step, std::string_view bytes) {
    const auto ec = wait([&](auto done) { asio::async_write(*stream, asio::buffer(bytes), done); });
    if (ec) return std::unexpected(network_error(step, ec));
    return {};
  }

  std::expected<Reply, SmtpError> read_reply(const std::string& step) {
    Reply reply;
    for (int n = 0; n < kMaxReplyLines; ++n) {
      auto ec = wait([&](auto done) {
        asio::async_read_until(*stream, asio::dynamic_buffer(input, kMaxReplyBytes), "\r\n", done);
      });
      if (ec == asio::error::not_found)
        return std::unexpected(SmtpError{step, "a reply line longer than 64 KiB"});
      if (ec) return std::unexpected(network_error(step, ec));
      const std::size_t end = input.find("\r\n");
      const std::string line = input.substr(0, end);
      input.erase(0, end + 2);
      // "250-first line", ..., "250 last line": the same three digits on each.
      const bool well_formed = line.size() >= 3 &&
                               std::all_of(line.begin(), line.begin() + 3,
                                           [](unsigned char c) { return std::isdigit(c) != 0; }) &&
                               (line.size() == 3 || line[3] == ' ' || line[3] == '-');
      const int code = well_formed ? std::stoi(line.substr(0, 3)) : 0;
      if (!well_formed || (n > 0 && code != reply.code))
        return std::unexpected(SmtpError{step, "not an SMTP reply: " + printable(line)});
      reply.code = code;
      reply.lines.push_back(line.size() > 4 ? line.substr(4) : std::string());
      if (line.size() == 3 || line[3] == ' ') return reply;
    }
    return std::unexpected(SmtpError{step, "a reply of more than 100 lines"});
  }

  // Sends one command line and reads its reply.
  std::expected<Reply, SmtpError> command(const std::string& step, std::string_view line) {
    std::string bytes(line);
    bytes += "\r\n";
    if (auto sent = write(step, bytes); !sent) return std::unexpected(std::move(sent.error()));
    return read_reply(step);
  }

  // A command that must get `expected`; a refusal ends the session politely.
  std::expected<Reply, SmtpError> expect(const std::string& step, std::string_view line,
                                         int expected, int also = 0) {
    auto reply = command(step, line);
    if (reply && reply->code != expected && reply->code != also)
      return std::unexpected(quit_after(refusal(step, *reply)));
    return reply;
  }

  // After a refusal the session is still in step: say QUIT as RFC 5321 asks, briefly.
  SmtpError quit_after(SmtpError error) {
    quit();
    return error;
  }

  void quit() {
    deadline = std::min(deadline, SteadyClock::now() + kQuitWait);
    if (write("QUIT", "QUIT\r\n")) (void)read_reply("QUIT");
  }

  std::expected<Extensions, SmtpError> ehlo(const Options& o) {
    auto reply = expect("EHLO", "EHLO " + o.helo, kOk);
    if (!reply) return std::unexpected(std::move(reply.error()));
    return read_extensions(*reply);
  }

  // Connected, greeted, and on TLS when the options ask for it: the extensions the last EHLO
  // offered.
  std::expected<Extensions, SmtpError> open(const Options& o) {
    if (auto connected = connect(o); !connected) return std::unexpected(connected.error());
    if (o.implicit_tls) {
      if (auto secured = handshake(o.host); !secured) return std::unexpected(secured.error());
    }
    auto greeting = read_reply("greeting");
    if (!greeting) return std::unexpected(std::move(greeting.error()));
    if (greeting->code != kServiceReady)
      return std::unexpected(quit_after(refusal("greeting", *greeting)));
    auto extensions = ehlo(o);
    if (!extensions || stream->is_tls() || o.starttls == StartTls::off) return extensions;
    if (!extensions->starttls) {
      if (o.starttls == StartTls::opportunistic) return extensions;
      return std::unexpected(
          quit_after({"STARTTLS", "the server does not offer it, and starttls is \"required\""}));
    }
    if (auto ready = expect("STARTTLS", "STARTTLS", kServiceReady); !ready)
      return std::unexpected(std::move(ready.error()));
    // RFC 3207 section 4.2: nothing the server said before TLS counts after it. Bytes already
    // buffered behind the 220 would be someone's injected replies.
    input.clear();
    if (auto secured = handshake(o.host); !secured) return std::unexpected(secured.error());
    return ehlo(o);  // again: the offer may differ over TLS (AUTH often appears only now)
  }

  std::expected<void, SmtpError> authenticate(const Options& o, const Extensions& offered) {
    if (!stream->is_tls() && !o.allow_plain_auth) {
      return std::unexpected(quit_after(
          {"AUTH",
           "the connection is not TLS (the server offers no STARTTLS): the password is not sent "
           "in the clear"}));
    }
    if (offered.auth_plain) {
      std::string credentials;
      credentials += '\0';
      credentials += o.username;
      credentials += '\0';
      credentials += o.password;
      auto done = expect("AUTH", "AUTH PLAIN " + base64(credentials), kAuthSucceeded);
      if (!done) return std::unexpected(std::move(done.error()));
      return {};
    }
    if (offered.auth_login) {
      for (auto [line, code] : {std::pair{std::string("AUTH LOGIN"), kAuthContinue},
                                std::pair{base64(o.username), kAuthContinue},
                                std::pair{base64(o.password), kAuthSucceeded}}) {
        if (auto step = expect("AUTH", line, code); !step)
          return std::unexpected(std::move(step.error()));
      }
      return {};
    }
    return std::unexpected(
        quit_after({"AUTH", offered.auth ? "the server offers neither PLAIN nor LOGIN"
                                         : "the server offers no AUTH, and a username is set"}));
  }

  std::expected<void, SmtpError> deliver(const Options& o, const MailEnvelope& envelope,
                                         std::string_view message) {
    auto offered = open(o);
    if (!offered) return std::unexpected(std::move(offered.error()));
    if (!o.username.empty()) {
      if (auto done = authenticate(o, *offered); !done) return done;
    }
    if (auto r = expect("MAIL FROM", "MAIL FROM:<" + envelope.from + ">", kOk); !r)
      return std::unexpected(std::move(r.error()));
    if (auto r = expect("RCPT TO", "RCPT TO:<" + envelope.to + ">", kOk, kUserNotLocalWillForward);
        !r)
      return std::unexpected(std::move(r.error()));
    if (auto r = expect("DATA", "DATA", kStartMailInput); !r)
      return std::unexpected(std::move(r.error()));
    if (auto sent = write("end of data", data_section(message)); !sent) return sent;
    auto taken = read_reply("end of data");
    if (!taken) return std::unexpected(std::move(taken.error()));
    if (taken->code != kOk) return std::unexpected(quit_after(refusal("end of data", *taken)));
    quit();  // the mail is the server's now: how QUIT goes changes nothing
    return {};
  }
};

std::expected<std::unique_ptr<SmtpClient>, std::string> SmtpClient::create(Options options) {
  if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']')
    options.host = options.host.substr(1, options.host.size() - 2);  // [::1]
  if (options.host.empty() ||
      std::ranges::any_of(options.host, [](unsigned char c) { return c <= ' ' || c >= 0x7f; }))
    return std::unexpected("host: must be a host name or an IP address");
  if (options.port == 0) return std::unexpected("port: must be 1 to 65535");
  if (options.timeout.count() <= 0) return std::unexpected("timeout: must be positive");
  if (options.helo.empty()) {
    char name[256] = {};
    const bool named = ::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0';
    options.helo = named ? name : "localhost";
  }
  if (std::ranges::any_of(options.helo, [](unsigned char c) { return c <= ' ' || c >= 0x7f; }))
    return std::unexpected("helo: must be a host name without spaces");
  if (options.username.find('\0') != std::string::npos ||
      options.password.find('\0') != std::string::npos)
    return std::unexpected("username: neither it nor the password may contain NUL");
  if (!options.username.empty() && options.password.empty())
    return std::unexpected("password: is required with a username");
  const bool tls_possible = options.implicit_tls || options.starttls != StartTls::off;
  if (!options.username.empty() && !tls_possible && !options.allow_plain_auth)
    return std::unexpected(
        "username: with starttls off and no implicit_tls, AUTH would send the password in the "
        "clear (allow_plain_auth allows it)");

  std::unique_ptr<SmtpClient> client(new SmtpClient(std::move(options)));
  if (!tls_possible) return client;
  auto& tls = client->connection_->tls.emplace(ssl::context::tls_client);
  if (auto ok = set_up_client_tls(tls, client->options_.ca_file); !ok)
    return std::unexpected(ok.error());
  return client;
}

SmtpClient::SmtpClient(Options options)
    : options_(std::move(options)), connection_(std::make_unique<Connection>()) {}

SmtpClient::~SmtpClient() = default;

std::expected<void, SmtpError> SmtpClient::send(const MailEnvelope& envelope,
                                                std::string_view message) {
  // Checked before anything reaches the wire: an address with CR or LF would add commands.
  if (auto ok = check_mail_address(envelope.from); !ok)
    return std::unexpected(SmtpError{"sender address", ok.error(), true});
  if (auto ok = check_mail_address(envelope.to); !ok)
    return std::unexpected(SmtpError{"recipient address", ok.error(), true});
  Connection& c = *connection_;
  c.deadline = SteadyClock::now() + options_.timeout;
  auto result = c.deliver(options_, envelope, message);
  c.close();
  return result;
}

void SmtpClient::abort() {
  Connection& c = *connection_;
  c.aborted = true;
  c.lookup.wake();
  asio::post(c.ioc, [&c] {
    if (c.stream) {
      error_code ignored;
      c.stream->socket().close(ignored);
    }
  });
}

}  // namespace waitroom::net
